"""Every Python block in README.md and docs/ runs as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.markdown import code_blocks, run_blocks

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(
    path
    for path in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    if any(block.runs for block in code_blocks(path))
)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_document_examples_run(document: Path, tmp_path: Path) -> None:
    run_blocks(code_blocks(document), tmp_path)


def test_the_documentation_has_examples() -> None:
    assert ROOT / "README.md" in DOCUMENTS
    assert len(DOCUMENTS) >= 2
