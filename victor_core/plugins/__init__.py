"""The plugin system: what a backend declares, how it is found, and how it is opened."""
