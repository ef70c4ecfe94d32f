"""CLI sub-commands, one module per feature area (registered by pipelines.cli)."""
