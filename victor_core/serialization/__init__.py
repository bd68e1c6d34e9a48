"""One cattrs converter for everything victor stores."""

from victor_core.serialization.converter import converter, make_converter
from victor_core.serialization.text import is_unicode

__all__ = ["converter", "is_unicode", "make_converter"]
