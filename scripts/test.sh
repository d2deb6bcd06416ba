#!/usr/bin/env bash
# Set up .venv (if needed) and run the tests: the harness tests and every case, on two workers.
source "$(dirname "$0")/_venv.sh"
exec .venv/bin/python -m pytest -n 2 "$@"
