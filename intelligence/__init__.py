"""Graded intelligence, matching, operations. Not built yet."""
