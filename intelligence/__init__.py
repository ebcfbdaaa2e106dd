"""Graded intelligence, matching, operations (issue 7). Not built yet."""
