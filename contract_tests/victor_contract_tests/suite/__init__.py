"""The contract tests; the plugin collects the ``contract_*.py`` modules in this package."""
