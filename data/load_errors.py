"""The one exception the loader raises for bad input: its message is shown to the user as is."""


class LoadError(Exception):
    """A file or argument the loader cannot use; nothing has been written to the warehouse."""
