"""One exception tree for the hub, organised by what the caller does to recover."""

from __future__ import annotations


class HubError(Exception):
    """Root of every error the hub raises on purpose."""


class ConfigError(HubError):
    """A configuration file or value is wrong: fix the file and restart."""


class SensorError(HubError):
    """Something is wrong with one sensor; the hub carries on with the others."""

    def __init__(self, sensor: str, message: str) -> None:
        super().__init__(f"sensor {sensor!r}: {message}")
        self.sensor = sensor


class SensorAuthError(SensorError):
    """The sensor refused our key or we refused its: fix the key (re-adopt), do not retry fast."""


class SensorProtocolError(SensorError):
    """The sensor sent bytes that are not a valid frame or message."""


class MalformedAdvertisement(HubError):  # noqa: N818 - reads as a noun at call sites
    """An advertisement could not be parsed; it is dropped and counted."""


class AudioError(HubError):
    """An audio file or sound model cannot be used: the message names it and what was expected."""


class StoreError(HubError):
    """The local store cannot be read or written (disk full, corrupt file)."""


class IntegrityError(HubError):
    """A signature, checksum or decryption check failed: the data must not be trusted."""


class DecryptionError(IntegrityError):
    """A sealed summary could not be opened with the given identity."""


class SchemaError(HubError):
    """A summary does not match its schema; the message names the field path and expectation."""


class DeliveryError(HubError):
    """A sealed summary could not be delivered now; it stays in the outbox."""


class DeliveryAuthError(DeliveryError):
    """The delivery target refused our credentials: fix them; retries slow down meanwhile."""


class ProvisioningError(HubError):
    """A sensor on a serial port did not answer as expected."""


class ClockNotSynchronised(HubError):  # noqa: N818
    """The system clock is not known to be right, so a day cannot be closed yet."""
