"""Importing this package registers every global @callback of the app."""
from callbacks import agents, contribution, customer, explore, filters, overview, pivot, shell  # noqa: F401
