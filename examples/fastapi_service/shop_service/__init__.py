"""A small shop built with victor-core, step by step in the tutorial (docs/tutorial/).

- ``domain``: what happens to an order (events and the ``Order`` aggregate) and who buys
  (the ``Customer`` entity);
- ``messages``: the commands and queries the shop answers;
- ``handlers``: one unit of work per command, and the queries;
- ``read_model``: order summaries, a projection fed from the event store;
- ``app``: the FastAPI service.
"""
