"""Victim case records (issue 3). Empty until then: nothing here pretends to work."""
