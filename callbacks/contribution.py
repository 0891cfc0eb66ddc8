"""Callbacks of the Contribution & cost to serve page."""
