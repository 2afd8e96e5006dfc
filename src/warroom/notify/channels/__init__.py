"""The only code that talks to the outside world to notify people: email and webhooks."""
