"""The verification flow: a pure `step(state, event) -> Step` over typed states, events and effects."""
