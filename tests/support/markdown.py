"""Running the Python code blocks of Markdown documents, as a reader would paste them.

The blocks of one document run in order, as one program, in a fresh Python process (so
that classes defined by one document or test never meet another's), with top-level
``await`` allowed and a scratch working directory for any file an example creates.
A block preceded by ``<!-- not-run: reason -->`` is shown to readers but not executed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import attrs

_FENCE = re.compile(
    r"(?P<marker><!--\s*not-run:[^>]*-->\s*\n)?^```python[ \t]*\n(?P<code>.*?)^```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)

# Compiles the program with top-level await allowed and runs it in an event loop.
_RUNNER = """
import ast, asyncio, inspect, sys
path = sys.argv[1]
code = compile(open(path, encoding="utf-8").read(), path, "exec",
               flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
namespace = {"__name__": "__main__"}
async def main():
    result = eval(code, namespace)
    if inspect.isawaitable(result):
        await result
asyncio.run(main())
"""


@attrs.frozen
class CodeBlock:
    path: Path
    line: int
    code: str
    runs: bool = True


def code_blocks(path: Path) -> list[CodeBlock]:
    """The ```python blocks of the Markdown file *path*, in order."""
    text = path.read_text(encoding="utf-8")
    return [
        CodeBlock(
            path=path,
            line=text.count("\n", 0, match.start("code")) + 1,
            code=match.group("code"),
            runs=match.group("marker") is None,
        )
        for match in _FENCE.finditer(text)
    ]


def run_blocks(
    blocks: Iterable[CodeBlock], workdir: Path, *, prelude: str = "", epilogue: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run *blocks* as one program in a new process in *workdir*; raise if it fails."""
    parts = [prelude]
    for block in blocks:
        if block.runs:
            parts.append(f"# --- {block.path.name}, line {block.line}\n{block.code}")
    parts.append(epilogue)
    program = workdir / "program.py"
    program.write_text("\n".join(parts), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(program)],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"the examples failed (program: {program}):\n{result.stdout}\n{result.stderr}"
        )
    return result
