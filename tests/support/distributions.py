"""Installed distributions made on the fly: a ``.dist-info`` directory plus modules.

This is the layout pip leaves in site-packages, so putting the directory on ``sys.path``
makes Python's entry point discovery see a really installed plugin.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path


def install_distribution(
    site: Path,
    name: str,
    version: str = "1.0",
    *,
    entry_points: Mapping[str, Mapping[str, str]],
    modules: Mapping[str, str],
) -> Path:
    """Write distribution *name* into the directory *site* and return *site*."""
    site.mkdir(parents=True, exist_ok=True)
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = []
    for group, entries in entry_points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{key} = {value}" for key, value in entries.items())
        lines.append("")
    (info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
    for module, source in modules.items():
        path = site / module
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")
    return site
