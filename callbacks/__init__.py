"""Importing this package registers every global @callback of the app."""
from callbacks import filters, overview, shell  # noqa: F401
