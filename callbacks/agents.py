"""Callbacks of the Agent effectiveness page."""
