"""Configuration: the TOML file, YIZHAN_* environment overrides and validation."""
