"""The worker: a cycle of idempotent jobs claimed from the outbox."""
