"""``python -m mapping.faults``: the same as ``mapping faults``."""

import sys

from .cli import main

sys.exit(main())
