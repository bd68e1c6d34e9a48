"""MkDocs hook: show the kernel's version beside the site name, read from the package itself.

Reading it from ``victor_core.__version__`` keeps the site and the release from disagreeing.
"""

from __future__ import annotations

from typing import Any

import victor_core


def on_config(config: Any) -> Any:
    config["extra"]["victor_version"] = victor_core.__version__
    config["site_name"] = f"{config['site_name']} {victor_core.__version__}"
    return config
