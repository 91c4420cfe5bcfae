"""The one exception family of netreg. The CLI catches ``NetregError`` once, at its boundary,
and prints its message (Chinese, one line); bad data never raises, it becomes an issue."""


class NetregError(Exception):
    """A problem with one line of Chinese for the user (``str(exc)``)."""


class ConfigError(NetregError):
    """A configuration problem (netreg.toml, the unit list), with a one-line Chinese message."""
