"""``victor demo``: a small task tracker that uses every pattern of victor-core together.

The modules are meant to be read, roughly in this order:

- :mod:`~victor_core.demo.domain`: the ``Task`` aggregate, its events, the ``Member`` entity;
- :mod:`~victor_core.demo.messages`: the commands and the query, with their validation;
- :mod:`~victor_core.demo.units`: how one command's changes commit together;
- :mod:`~victor_core.demo.handlers`: the command and query handlers;
- :mod:`~victor_core.demo.board`: the projection that queries read;
- :mod:`~victor_core.demo.middleware` and :mod:`~victor_core.demo.app`: the wiring;
- :mod:`~victor_core.demo.story`: the steps the demo narrates (told through
  :mod:`~victor_core.demo.narration`, summed up by :mod:`~victor_core.demo.summary`), and
  :mod:`~victor_core.demo.runner`: where it runs.
"""

from victor_core.demo.app import TaskTracker
from victor_core.demo.runner import default_url, main, run_demo
from victor_core.demo.summary import DemoSummary

__all__ = ["DemoSummary", "TaskTracker", "default_url", "main", "run_demo"]
