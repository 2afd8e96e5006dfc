"""The transactional outbox: timers and notifications as rows, claimed by workers."""
