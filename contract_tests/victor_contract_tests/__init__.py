"""The victor contract suite: what every storage backend must do, as a pytest plugin."""

from victor_contract_tests.plugin import SUITE_DIR, requires

__all__ = ["SUITE_DIR", "requires"]
