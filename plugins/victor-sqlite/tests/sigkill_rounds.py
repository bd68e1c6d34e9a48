"""Kill writer processes with SIGKILL at random moments, round after round, on one file.

Both crash tests run the same experiment with a different child: start writers, kill them
at a random moment, read back what the file holds (the reader checks wholeness itself), and
require that nothing a child acknowledged is lost, nothing is skipped, and nothing from an
earlier round changes. What differs is the child script and what "whole" means.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
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


def kill_writers_in_rounds(
    *,
    script: Path,
    path: Path,
    extra_arguments: Sequence[str] = (),
    rounds: int,
    writers_per_round: int,
    wait: tuple[float, float],
    read_back: Callable[[Path], dict[str, set[int]]],
) -> dict[str, set[int]]:
    """Run the experiment; return, by writer, the numbered units found in the file.

    Each child prints the number of every unit it has committed, one per line, and writes
    forever until killed. *read_back* checks the file and returns the units present.
    """
    seed = random.randrange(2**32)
    chooser = random.Random(seed)
    kept: dict[str, set[int]] = {}
    for round_number in range(rounds):
        writers = [f"r{round_number}w{n}" for n in range(writers_per_round)]
        children = [spawn(script, [str(path), writer, *extra_arguments]) for writer in writers]
        time.sleep(chooser.uniform(*wait))
        for child in children:
            child.send_signal(signal.SIGKILL)
        reported = {}
        for writer, child in zip(writers, children, strict=True):
            output, errors = child.communicate()
            assert child.returncode == -signal.SIGKILL, f"the child failed by itself: {errors}"
            reported[writer] = {int(line) for line in output.split()}

        found = read_back(path)

        context = f"(random seed {seed}, round {round_number})"
        for writer in writers:
            present = found.get(writer, set())
            assert reported[writer] <= present, f"a committed unit was lost {context}"
            assert present == set(range(len(present))), f"units were skipped {context}"
        for writer, units in kept.items():
            assert found.get(writer, set()) == units, f"an earlier round changed {context}"
        kept.update({writer: found.get(writer, set()) for writer in writers})
    return kept
