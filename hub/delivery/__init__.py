"""Delivery of sealed summaries: the outbox on disk, and ways out of the home."""
