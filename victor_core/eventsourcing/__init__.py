"""Event sourcing: events, aggregates, the event store and how events are stored."""
