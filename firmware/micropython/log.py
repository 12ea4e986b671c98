"""A gated log: one level check, no ``logging`` module, nothing formatted when filtered out."""

from micropython import const

DEBUG = const(10)
INFO = const(20)
WARNING = const(30)

level = INFO


def log(lvl, fmt, *args):
    """Print ``fmt % args`` when ``lvl`` passes the gate; never pass keys or payloads here."""
    if lvl >= level:
        print(fmt % args if args else fmt)
