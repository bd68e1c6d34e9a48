"""Every Python block in README.md and docs/ runs as written, as often as a reader runs it.

A reader copies a page into a file and runs it, perhaps twice, perhaps from a directory that
holds their own work; another wraps it in ``async def main()``. Each page is run twice in
the same working directory, which must be left as it was found (examples keep their files
in temporary directories), and once more as the body of ``main()``.
"""

from __future__ import annotations

import ast
import os
import re
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("victor_memory", reason="runs what README's install gives: victor-memory")
pytest.importorskip("victor_sqlite", reason="runs what README's install gives: victor-sqlite")
pytest.importorskip("victor_demo", reason="runs what README's install gives: victor-demo")

from tests.support.markdown import CodeBlock, code_blocks, required_modules, run_blocks

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(
    path
    for path in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    if any(block.runs for block in code_blocks(path))
)


#: The tutorial's application, importable as a reader who installed it imports it.
SHOP = ROOT / "examples" / "fastapi_service"


@pytest.fixture(autouse=True)
def _shop_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(SHOP), os.environ.get("PYTHONPATH", "")]))


def _skip_without_requirements(document: Path) -> None:
    for module in required_modules(document):
        pytest.importorskip(module, reason=f"{document.name} needs {module}: pip install {module}")


def _contents(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory under *directory*, with its size and modification time."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            stat = path.lstat()
            found[str(path.relative_to(directory))] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_document_examples_run_twice_and_leave_the_directory_as_it_was(
    document: Path, tmp_path: Path
) -> None:
    _skip_without_requirements(document)
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "notes.txt").write_text("the reader's own file\n", encoding="utf-8")
    before = _contents(workdir)
    blocks = code_blocks(document)
    for run in ("first", "second"):
        program = tmp_path / f"{run}.py"
        run_blocks(blocks, workdir, program=program)
        assert _contents(workdir) == before, f"the {run} run changed the working directory"


@pytest.mark.parametrize(
    "document",
    [d for d in DOCUMENTS if not any("asyncio.run(" in b.code for b in code_blocks(d))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_document_examples_run_inside_a_main_function(document: Path, tmp_path: Path) -> None:
    _skip_without_requirements(document)
    run_blocks(code_blocks(document), tmp_path, program=tmp_path / "main.py", in_main=True)


STANDS_ALONE = "# Stands alone."
CONTINUES = "# Continues from the blocks above on this page."
PAGE_BLOCKS = [
    block
    for document in DOCUMENTS
    if document.parent != ROOT
    for block in code_blocks(document)
    if block.runs
]


@pytest.mark.parametrize("block", PAGE_BLOCKS, ids=lambda b: f"{b.path.relative_to(ROOT)}:{b.line}")
def test_each_block_says_whether_it_stands_alone(block: CodeBlock) -> None:
    first_line = block.code.splitlines()[0]
    assert first_line in (STANDS_ALONE, CONTINUES), (
        f"{block.path.name}, line {block.line}: start the block with {STANDS_ALONE!r} or "
        f"{CONTINUES!r}, so a reader who copies it knows what else to copy"
    )


@pytest.mark.parametrize(
    "block",
    [b for b in PAGE_BLOCKS if b.code.startswith(STANDS_ALONE)],
    ids=lambda b: f"{b.path.relative_to(ROOT)}:{b.line}",
)
def test_a_block_that_says_it_stands_alone_runs_alone(block: CodeBlock, tmp_path: Path) -> None:
    _skip_without_requirements(block.path)
    run_blocks([block], tmp_path)


def test_the_documentation_has_examples() -> None:
    assert ROOT / "README.md" in DOCUMENTS
    assert len(DOCUMENTS) >= 2


def _imported_names() -> dict[str, str]:
    """``module.Name`` for every name the pages' examples import from victor's packages."""
    found: dict[str, str] = {}
    for document in DOCUMENTS:
        for block in code_blocks(document):
            # Shown modules and excerpts too: what a page shows is what readers import.
            for node in ast.walk(ast.parse(textwrap.dedent(block.code))):
                if isinstance(node, ast.ImportFrom) and node.module:
                    if node.module.split(".")[0] not in VICTOR_PACKAGES:
                        continue
                    for alias in node.names:
                        found[f"{node.module}.{alias.name}"] = f"{document.name}:{block.line}"
    return found


VICTOR_PACKAGES = {"victor_core", "victor_memory", "victor_sqlite", "victor_mongodb"}
_DIRECTIVE = re.compile(r"^::: (\S+)$|^\s+heading: \"([^\"]+)\"$", re.MULTILINE)


def test_the_reference_lists_every_name_the_guides_import() -> None:
    documented = set()
    for page in (ROOT / "docs" / "api").glob("*.md"):
        for directive, heading in _DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            documented.add(directive or heading)
    missing = {
        name: where
        for name, where in _imported_names().items()
        if name not in documented and name.rsplit(".", 1)[0] not in documented
    }
    assert not missing, f"names used in the guides but absent from docs/api/: {missing}"
