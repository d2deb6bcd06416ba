"""``python -m mapping <command> ...``: the same as the ``mapping`` command (:mod:`mapping.cli`)."""

from .cli import main

raise SystemExit(main())
