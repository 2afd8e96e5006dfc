"""Postmortems: drafted from the incident, reviewed, published; action items tracked."""
