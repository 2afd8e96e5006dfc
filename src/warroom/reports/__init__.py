"""Program metrics and anti-pattern reports (process.md §6, §7)."""
