"""Text that every database can store: Unicode, which a Python ``str`` need not be."""

from __future__ import annotations


def is_unicode(text: str) -> bool:
    """False when *text* holds a lone surrogate, which UTF-8 (and so every database) refuses.

    Python lets a ``str`` hold one: ``"\\ud800"`` written out, or what
    ``errors="surrogateescape"`` leaves of bytes that are not UTF-8.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
