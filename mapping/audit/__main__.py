"""``python -m mapping.audit``: the same as ``mapping audit``."""

from .cli import main

raise SystemExit(main())
