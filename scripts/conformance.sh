#!/usr/bin/env bash
# Set up .venv (if needed) and run the full conformance job: every case on every framework, results
# JSON in reports/results/, HTML report at reports/conformance.html.
source "$(dirname "$0")/_venv.sh"
exec .venv/bin/python -m mapping.conformance "$@"
