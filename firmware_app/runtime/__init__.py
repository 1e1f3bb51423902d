"""The imperative shell: one event loop owns the state; devices, network and timers only post events."""
