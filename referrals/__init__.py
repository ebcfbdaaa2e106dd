"""Referrals between agencies and the NRM workflow (issue 4). Not built yet."""
