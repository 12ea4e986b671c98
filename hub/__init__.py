"""homehub: a privacy-preserving home sensing hub."""

__version__ = "0.1.0"
