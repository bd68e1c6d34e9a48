"""Start a child Python for the crash tests, one that sees the packages this one sees.

The tests that SIGKILL children read what each child prints as it commits, and kill it
once it has reported enough progress: the kill then lands in the middle of its work
however loaded the machine is, never before the child got going.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def spawn(script: Path, arguments: Sequence[str]) -> subprocess.Popen[str]:
    """Start *script* in a child Python that sees the same packages as this one."""
    return subprocess.Popen(
        [sys.executable, str(script), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
