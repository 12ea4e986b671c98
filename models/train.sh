#!/usr/bin/env bash
# Train the sound-event model from ../shared/data/audio and evaluate it with the hub's runtime.
# One command, reproducible (fixed seeds, deterministic ops); about 15 min on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=models/.cache/venv
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r models/requirements.txt
nice "$venv/bin/python" -m models.train "$@"
.venv/bin/python -m models.evaluate --json models/metrics.json
