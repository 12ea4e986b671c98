#!/usr/bin/env bash
# Benchmarks: print figures (they never fail on time, only on errors).
set -euo pipefail
python -m pytest tests/benchmarks -m benchmark -q -s -p no:cacheprovider
