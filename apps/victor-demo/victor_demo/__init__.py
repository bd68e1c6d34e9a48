"""``victor demo``: a small task tracker that uses every pattern of victor-core together.

The modules are meant to be read, roughly in this order:

- :mod:`~victor_demo.domain`: the ``Task`` aggregate, its events, the ``Member`` entity;
- :mod:`~victor_demo.messages`: the commands and the query, with their validation;
- :mod:`~victor_demo.units`: how one command's changes commit together;
- :mod:`~victor_demo.handlers`: the command and query handlers;
- :mod:`~victor_demo.board`: the projection that queries read;
- :mod:`~victor_demo.middleware` and :mod:`~victor_demo.app`: the wiring;
- :mod:`~victor_demo.story`: the steps the demo narrates (told through
  :mod:`~victor_demo.narration`, summed up by :mod:`~victor_demo.summary`), and
  :mod:`~victor_demo.runner`: where it runs.
"""

from victor_demo.app import TaskTracker
from victor_demo.runner import default_url, main, run_demo
from victor_demo.summary import DemoSummary

__all__ = ["DemoSummary", "TaskTracker", "default_url", "main", "run_demo"]
