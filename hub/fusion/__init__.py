"""Fusion: minute-level day state from BLE and sound, and the episodes found in it. Pure."""

from hub.fusion.minute import MinuteBuilder, MinuteRecord

__all__ = ["MinuteBuilder", "MinuteRecord"]
