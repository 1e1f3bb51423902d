"""A test's record of every step a runtime takes: wait for a kind of state, post an event and wait until taken."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar, overload

from firmware_app.flow.events import Event
from firmware_app.flow.states import State
from firmware_app.flow.step import Step
from firmware_app.runtime.loop import Runtime

S = TypeVar("S", bound=State)
T = TypeVar("T", bound=State)
U = TypeVar("U", bound=State)


class StepLog:
    """Listens to a runtime from before it starts; steps are kept, so a state passed through quickly is not missed.

    `describe` adds what the terminal last said to a timeout's message."""

    def __init__(self, runtime: Runtime, describe: Callable[[], str] = lambda: "") -> None:
        self.runtime = runtime
        self._describe = describe
        self._changed = threading.Condition()
        self.history: list[tuple[State, Event, Step[State]]] = []
        self._mark = 0
        runtime.add_listener(self._record)

    def _record(self, before: State, event: Event, result: Step[State]) -> None:
        with self._changed:
            self.history.append((before, event, result))
            self._changed.notify_all()

    @property
    def state(self) -> State:
        return self.runtime.state

    def post(self, event: Event) -> None:
        self.runtime.post(event)

    def steps_seen(self) -> int:
        with self._changed:
            return len(self.history)

    def act(self, event: Event, timeout: float = 10.0) -> Step[State]:
        """Post an operator's event and wait until the loop has taken it; return its step."""
        seen = self.steps_seen()
        self.runtime.post(event)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(seen, len(self.history)):
                    _before, taken, result = self.history[index]
                    if taken is event:
                        self._mark = index
                        return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the loop did not take {type(event).__name__}")
                self._changed.wait(remaining)

    @overload
    def wait_for(self, kind: type[S], timeout: float = ...) -> S: ...

    @overload
    def wait_for(self, kind: tuple[type[S], type[T]], timeout: float = ...) -> S | T: ...

    @overload
    def wait_for(self, kind: tuple[type[S], type[T], type[U]], timeout: float = ...) -> S | T | U: ...

    @overload
    def wait_for(self, kind: tuple[type[S], ...], timeout: float = ...) -> State: ...

    def wait_for(self, kind: type[object] | tuple[type[object], ...], timeout: float = 10.0) -> State:
        """Wait for the next step (after the last one waited for or acted on) that leads to this kind of state."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(self._mark, len(self.history)):
                    state = self.history[index][2].state
                    if isinstance(state, kind):
                        self._mark = index + 1
                        return state
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"terminal stayed in {type(self.runtime.state).__name__}, "
                                       f"expected {kind}{self._describe()}")
                self._changed.wait(remaining)

    def wait_until(self, condition: Callable[[], bool], timeout: float = 15.0) -> None:
        """Poll a condition on the journal or the devices until it holds (background work has no state)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            time.sleep(0.05)
