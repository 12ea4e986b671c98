"""The sound classes the hub reports: the contract between the model, fusion and the summary."""

from __future__ import annotations

from typing import Final

CLASSES: Final[tuple[str, ...]] = (
    "quiet",  # nothing below: silence, hum, ticking clock
    "speech",  # one voice
    "conversation",  # several voices taking turns
    "tv",  # TV or radio: people who are not in the room
    "snoring",
    "footsteps",
    "door",
    "knock",  # knock or doorbell
    "water",  # tap, shower, toilet
    "kitchen",  # dishes, cooking
    "alarm",  # alarms, sirens, beeping
    "baby",  # crying baby
)
"""Order is the model's output order; changing it means retraining and a schema bump.

``cough`` and ``laughter`` were dropped: no honest training data for them (models/MODEL_CARD.md)."""

SAMPLE_RATE: Final = 16_000
"""ESPHome's voice_assistant streams 16 kHz, 16-bit, mono PCM."""
