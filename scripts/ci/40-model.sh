#!/usr/bin/env bash
# The shipped sound model: size, same outputs in tflite-runtime and ai-edge-litert, and the
# held-out evaluation (fails below macro-F1 0.85 or the other must-show figures). No training.
set -euo pipefail
cd "$(dirname "$0")/../.."

model=hub/sensing/audio/sound_events.tflite
size=$(stat -c %s "$model")
echo "model: $model, $size bytes"
if ((size > 256 * 1024)); then
  echo "model is larger than 256 KB" >&2
  exit 1
fi

# tflite-runtime 2.14 needs numpy < 2: it gets its own small venv.
tvenv=models/.cache/tflite-venv
if [[ ! -x $tvenv/bin/python ]]; then
  python3 -m venv "$tvenv"
fi
"$tvenv/bin/python" -m pip install -q --disable-pip-version-check "tflite-runtime==2.14.0" "numpy<2"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python -m models.compare_runtimes inputs "$tmp/inputs.npz"
python models/compare_runtimes.py run "$tmp/inputs.npz" "$tmp/litert.npy" --runtime ai_edge_litert
"$tvenv/bin/python" models/compare_runtimes.py run "$tmp/inputs.npz" "$tmp/tflite.npy" --runtime tflite_runtime
python -m models.compare_runtimes compare "$tmp/litert.npy" "$tmp/tflite.npy"

python -m models.evaluate --runtime ai_edge_litert
