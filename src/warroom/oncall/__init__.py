"""On-call schedules: rotation layers, overrides and who is on call when."""
