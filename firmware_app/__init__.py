"""The terminal application: flow, runtime, center link, journal, slips, operator interface, CLI."""
