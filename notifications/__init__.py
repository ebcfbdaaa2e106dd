"""The notification outbox and its delivery tasks. Not built yet."""
