"""The sensor's configuration file, written by ``homehub sensor provision`` over the raw REPL.

``sensor.json``: {"name", "room", "psk" (base64, 32 bytes; absent means not yet adopted),
"wifi_ssid", "wifi_psk", "port" (default 6053), "batch_ms" (default 250), "queue" (64)}.
"""

import binascii
import json
import os

DEFAULT_PATH = "sensor.json"


ZERO_PSK = bytes(32)


class ConfigError(Exception):
    """The configuration file is missing or wrong; the message names the key."""


class Config:
    """Loaded settings; ``set_psk`` rewrites the file (adoption)."""

    def __init__(self, data, path=DEFAULT_PATH):
        self._data = data
        self._path = path
        if not data.get("name"):
            raise ConfigError("%s: missing 'name'" % path)
        # No key yet: serve with the all-zero key so the hub can adopt with noise_encryption_set_key.
        self.psk = _decode_psk(data["psk"], path) if data.get("psk") else ZERO_PSK
        self.name = data["name"]
        self.room = data.get("room", "")
        self.port = int(data.get("port", 6053))
        self.batch_ms = int(data.get("batch_ms", 250))
        self.queue = int(data.get("queue", 64))
        self.wifi_ssid = data.get("wifi_ssid", "")
        self.wifi_psk = data.get("wifi_psk", "")

    def set_psk(self, key):
        """Store a new key (None: forget it and serve adoptable with the zero key)."""
        if key is None:
            self.psk = ZERO_PSK
            self._data.pop("psk", None)
        else:
            self.psk = bytes(key)
            self._data["psk"] = binascii.b2a_base64(key).decode().strip()
        tmp = self._path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self._data, f)
        os.rename(tmp, self._path)


def _decode_psk(text, path):
    try:
        key = binascii.a2b_base64(text)
    except ValueError:
        raise ConfigError("%s: 'psk' is not base64" % path)
    if len(key) != 32:
        raise ConfigError("%s: 'psk' must decode to 32 bytes" % path)
    return key


def load(path=DEFAULT_PATH):
    """Read and check ``path``."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError:
        raise ConfigError("%s: cannot read (provision the sensor first)" % path)
    except ValueError:
        raise ConfigError("%s: not valid JSON" % path)
    return Config(data, path)
