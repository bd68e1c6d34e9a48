from typing import Any

from victor_core import *  # noqa: F403
from victor_core import __all__ as __all__

def __getattr__(name: str) -> Any: ...
