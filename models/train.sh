#!/usr/bin/env bash
# Train the sound-event model from ../shared/data/audio and evaluate it with the hub's runtime.
# One command, reproducible (fixed seeds, deterministic ops); about 15 min on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v espeak-ng >/dev/null; then  # synthesised training voices (models/tts.py)
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null
  else
    echo "train.sh: please install espeak-ng (sudo apt-get install espeak-ng)" >&2
    exit 1
  fi
fi
venv=models/.cache/venv
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r models/requirements.txt
nice "$venv/bin/python" -m models.train "$@"
.venv/bin/python -m models.evaluate --json models/metrics.json
