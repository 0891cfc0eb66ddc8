"""Importing this package registers every global @callback of the app."""
from callbacks import shell  # noqa: F401
