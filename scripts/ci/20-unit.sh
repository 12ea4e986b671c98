#!/usr/bin/env bash
# Unit, loopback end-to-end and privacy tests (not firmware, image or benchmarks).
set -euo pipefail
python -m pytest -m "not firmware and not image and not benchmark" -q -p no:cacheprovider
