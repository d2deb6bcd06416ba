#!/usr/bin/env bash
# Set up .venv (if needed) and run the tests: the harness tests and every case, on two workers.
# The case collector is loaded explicitly (-p), so a case file given by a path outside this project is
# collected too (pytest would not read this project's conftest.py for it).
source "$(dirname "$0")/_venv.sh"
source "$(dirname "$0")/_chromium.sh"
exec .venv/bin/python -m pytest -p mapping.pytest_plugin -n 2 "$@"
