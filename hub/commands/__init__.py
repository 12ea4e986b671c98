"""One module per ``homehub`` command group, each with ``register(subparsers)``."""
