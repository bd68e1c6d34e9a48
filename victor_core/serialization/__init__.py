"""One cattrs converter for everything victor stores."""

from victor_core.serialization.converter import converter, make_converter

__all__ = ["converter", "make_converter"]
