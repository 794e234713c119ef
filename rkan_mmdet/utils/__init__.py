"""Non-model utilities (filled in by the foundation work)."""
