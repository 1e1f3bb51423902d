"""The terminal's telemetry to its district: its status (birth and will) and health reports, never a voter's data."""
