"""Migration scripts, applied in order at start."""
