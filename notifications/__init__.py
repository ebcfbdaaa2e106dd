"""The notification outbox and its delivery tasks (issue 4). Not built yet."""
