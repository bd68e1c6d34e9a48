"""A storage backend for victor-core written the way a third party would write one."""
