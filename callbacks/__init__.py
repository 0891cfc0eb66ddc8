"""Importing this package registers every global @callback of the app."""
from callbacks import overview, shell  # noqa: F401
