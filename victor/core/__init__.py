"""``victor.core`` is another name for :mod:`victor_core`: the same module, the same objects."""

import sys

import victor_core

sys.modules[__name__] = victor_core
