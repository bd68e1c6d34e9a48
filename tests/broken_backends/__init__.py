"""Backends that each carry one realistic defect, which the contract suite must catch.

Each module is a first-party backend with one thing wrong, of the kind a backend author
ships: a bound dropped when another is given, a cache that goes stale, an undo log replayed
in the wrong order, an append acknowledged before it is written. ``tests/test_broken_backends.py``
installs them as a distribution made on the fly and runs the contract suite against each;
the suite must fail, and its failure must name the guarantee that was broken.
"""
