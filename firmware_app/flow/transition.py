"""`Step`, the result of one event: the next state and its effects, or a refusal that changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from firmware_app.flow.effects import Effect, Show
from firmware_app.flow.events import Event
from firmware_app.flow.notices import Notice

S_co = TypeVar("S_co", covariant=True)


@dataclass(frozen=True)
class Step(Generic[S_co]):
    """`state` is the next state (the same one on a refusal); `Step[A | B]` says which states a handler may
    lead to, and mypy holds every handler to it."""

    state: S_co
    effects: tuple[Effect, ...] = ()
    refusal: str | None = None


T = TypeVar("T")


def refuse(state: T, reason: str, notice: Notice | None = None) -> Step[T]:
    """An explicit refusal: the state stays, nothing is journaled or sent; the operator may be told why."""
    return Step(state, (Show(notice),) if notice is not None else (), refusal=reason)


def not_accepted(state: T, event: Event) -> Step[T]:
    return Step(state, refusal=f"{type(event).__name__} is not accepted in {type(state).__name__}")
