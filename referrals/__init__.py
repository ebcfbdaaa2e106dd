"""Referrals between agencies and the NRM workflow. Not built yet."""
