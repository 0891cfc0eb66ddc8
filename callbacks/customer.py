"""Callbacks of the Single customer view page."""
