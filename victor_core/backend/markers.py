"""The pluggy markers of victor's hooks: a backend decorates its hook functions with
:data:`hookimpl`; the kernel's hook specifications are marked with :data:`hookspec`.

They live with the backend API, not with the registry, so that a backend module can be
written (and imported) without loading the plugin machinery.
"""

from __future__ import annotations

import pluggy

#: The pluggy project name that every victor hook belongs to.
PROJECT_NAME = "victor"

#: Marks a function as one of victor's hook specifications (kernel only).
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marks a function as the implementation of one of victor's hooks.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
