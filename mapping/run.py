"""``python -m mapping.run CASE_FILE ROW --framework NAME``: run one case, print the outcome."""

from .runner import main

if __name__ == "__main__":
    raise SystemExit(main())
