#!/usr/bin/env bash
# Lint and type-check the hub.
set -euo pipefail
ruff check hub tests models
ruff format --check hub tests models
mypy
