"""Partnership aggregates with small-number suppression (issue 8). Not built yet."""
