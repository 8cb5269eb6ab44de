"""``python -m alskit``: the command line (as the ``alskit`` script)."""

import sys

from .cli import main

sys.exit(main())
