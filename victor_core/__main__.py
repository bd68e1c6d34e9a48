"""``python -m victor_core`` is the ``victor`` command."""

import sys

from victor_core.cli import main

sys.exit(main())
