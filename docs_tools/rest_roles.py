"""A griffe extension that renders the reST markup of victor-core's docstrings on the site.

The docstrings are written for ``help()`` and editors, in reST: ``:class:`Event```,
``:meth:`~EventStore.append```, a ``::`` before an example. mkdocstrings renders Markdown,
so this extension rewrites each role into an optional cross-reference (a link when the target
is on the site, plain code when it is not, such as :mod:`dataclasses`) and each ``::`` into a
colon, and the indented example below it into a Python code block. Module and class
attributes documented by ``#:`` comments above them get those comments as their docstring.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_ROLE = re.compile(
    r":(?:py:)?(?:class|meth|func|attr|data|mod|exc|obj):"
    r"`(?P<tilde>~)?(?P<text>[^`<]+?)(?:\s*<(?P<target>[^>`]+)>)?`"
)
_LITERAL_MARKER = re.compile(r"(?P<before>\S?)[ \t]*::[ \t]*$")


class RestRoles(griffe.Extension):
    """Rewrites reST roles and literal-block markers in every docstring of a package."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        for obj in _objects(pkg):
            if obj.docstring is None and obj.is_attribute:
                obj.docstring = _comment_docstring(obj, loader)
            if obj.docstring is not None:
                obj.docstring.value = _markdown(obj.docstring.value, obj, loader)


def _objects(obj: griffe.Object) -> list[griffe.Object]:
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias and isinstance(member, griffe.Object):
            found.extend(_objects(member))
    return found


def _comment_docstring(obj: griffe.Object, loader: griffe.GriffeLoader) -> griffe.Docstring | None:
    """The ``#:`` comment lines right above the attribute *obj*, as its docstring."""
    if obj.lineno is None or obj.parent is None:
        return None
    lines = obj.parent.module.lines
    index = obj.lineno - 2  # the line above, 0-based
    comment: list[str] = []
    while 0 <= index < len(lines) and lines[index].strip().startswith("#:"):
        comment.insert(0, lines[index].strip().removeprefix("#:").strip())
        index -= 1
    if not comment:
        return None
    return griffe.Docstring(
        "\n".join(comment),
        lineno=index + 2,
        parent=obj,
        parser=loader.docstring_parser,
        parser_options=loader.docstring_options,
    )


def _markdown(text: str, scope: griffe.Object, loader: griffe.GriffeLoader) -> str:
    def role(match: re.Match[str]) -> str:
        name = (match["target"] or match["text"]).strip().lstrip("~")
        if match["target"]:
            title = match["text"].strip()
        elif match["tilde"]:
            title = name.rsplit(".", 1)[-1]
        else:
            title = name
        identifier = _canonical(name, scope, loader)
        return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'

    return _literal_blocks(_ROLE.sub(role, text))


def _literal_blocks(text: str) -> str:
    """``Example::`` and the indented block after it, as ``Example:`` and a fenced block."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        marker = _LITERAL_MARKER.search(line)
        i += 1
        if marker is None:
            out.append(line)
            continue
        kept = line[: marker.start()] + (f"{marker['before']}:" if marker["before"] else "")
        if kept.strip():
            out.append(kept)
        block: list[str] = []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
            block.append(lines[i])
            i += 1
        while block and not block[-1].strip():
            i -= 1  # give trailing blank lines back to the text
            block.pop()
        code = textwrap.dedent("\n".join(block)).strip("\n")
        out.extend(["", "```python", *code.split("\n"), "```"] if code else [])
    return "\n".join(out)


def _canonical(name: str, scope: griffe.Object, loader: griffe.GriffeLoader) -> str:
    """The path the site knows *name* under, as seen from *scope*; *name* itself if unknown."""
    first, _, rest = name.partition(".")
    try:
        path = scope.resolve(first) + (f".{rest}" if rest else "")
    except griffe.NameResolutionError:
        path = name
    try:
        target = loader.modules_collection.get_member(path)
        return str(target.final_target.path if target.is_alias else target.path)
    except Exception:  # an object outside the loaded packages: keep the name as written
        return path
