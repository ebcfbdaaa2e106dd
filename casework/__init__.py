"""Victim case records. Empty until then: nothing here pretends to work."""
