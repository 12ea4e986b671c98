"""A virtual ESP32 room sensor that speaks the real ESPHome native API (plaintext and Noise)."""

from hub.sim.emulator.device import EmulatedSensor, SensorState

__all__ = ["EmulatedSensor", "SensorState"]
