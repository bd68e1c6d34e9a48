"""Running the Python code blocks of Markdown documents, as a reader would paste them.

The blocks of one document run in order, as one program, in a fresh Python process (so
that classes defined by one document or test never meet another's), with top-level
``await`` allowed and a scratch working directory for any file an example creates.
A block preceded by ``<!-- not-run: reason -->`` is shown to readers but not executed. A
line ``--8<-- "path"`` in a block is replaced by the file at *path* (relative to the
repository root), as the site's snippets extension does, so the block shows that file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

import attrs

_FENCE = re.compile(
    r"(?P<marker><!--\s*not-run:[^>]*-->\s*\n)?^```python[ \t]*\n(?P<code>.*?)^```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)

# Compiles the program with top-level await allowed. A program that awaits at top level runs
# in an event loop; one that does not runs as a plain script would, with no loop running, so
# that a block calling ``asyncio.run`` itself works as it does pasted into a file.
_RUNNER = """
import ast, asyncio, inspect, sys
path = sys.argv[1]
code = compile(open(path, encoding="utf-8").read(), path, "exec",
               flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
namespace = {"__name__": "__main__"}
result = eval(code, namespace)
if inspect.isawaitable(result):
    async def main():
        await result
    asyncio.run(main())
"""


_SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"$', re.MULTILINE)
_REQUIRES = re.compile(r"<!--\s*requires:(?P<modules>[^>]*)-->")


def _root(path: Path) -> Path:
    for parent in path.resolve().parents:
        if (parent / "mkdocs.yml").is_file():
            return parent
    return path.resolve().parent


def required_modules(path: Path) -> list[str]:
    """The modules a page declares with ``<!-- requires: a b -->``: optional integrations."""
    text = path.read_text(encoding="utf-8")
    return [name for match in _REQUIRES.finditer(text) for name in match["modules"].split()]


@attrs.frozen
class CodeBlock:
    path: Path
    line: int
    code: str
    runs: bool = True


def code_blocks(path: Path) -> list[CodeBlock]:
    """The ```python blocks of the Markdown file *path*, in order."""
    text = path.read_text(encoding="utf-8")
    root = _root(path)

    def include(match: re.Match[str]) -> str:
        return (root / match["path"]).read_text(encoding="utf-8").rstrip("\n")

    return [
        CodeBlock(
            path=path,
            line=text.count("\n", 0, match.start("code")) + 1,
            code=_SNIPPET.sub(include, match.group("code")),
            runs=match.group("marker") is None,
        )
        for match in _FENCE.finditer(text)
    ]


def run_blocks(
    blocks: Iterable[CodeBlock],
    workdir: Path,
    *,
    prelude: str = "",
    epilogue: str = "",
    program: Path | None = None,
    in_main: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run *blocks* as one program in a new process in *workdir*; raise if it fails.

    The program is written to *program* (by default ``program.py`` in *workdir*). With
    *in_main*, the blocks run as the body of ``async def main()`` called by
    ``asyncio.run(main())``, as a reader turning a page into a script writes them; classes
    are then local to a function, which shows in their qualified names.
    """
    parts = []
    for block in blocks:
        if block.runs:
            parts.append(f"# --- {block.path.name}, line {block.line}\n{block.code}")
    body = "\n".join(parts)
    if in_main:
        body = (
            "import asyncio as _asyncio\n\n\nasync def main() -> None:\n"
            + textwrap.indent(body or "pass", "    ")
            + "\n    pass\n\n\n_asyncio.run(main())\n"
        )
    program = program if program is not None else workdir / "program.py"
    program.write_text("\n".join([prelude, body, epilogue]), encoding="utf-8")
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
