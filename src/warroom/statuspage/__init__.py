"""Public status page: Statuspage-compatible rules, JSON documents and feeds."""
