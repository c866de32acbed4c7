"""What a plan asks its front-end to do. The only I/O the core ever needs, named.

A plan is a generator: it yields an effect, the front-end performs it and sends the outcome back in
(or throws the exception the effect raised). Both front-ends interpret exactly these four effects.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from eventflow.core.scope import Scope
    from eventflow.core.state import ExecutionState

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Flush:
    """Send every pending update of ``state`` and wait for the service's acknowledgement."""

    state: ExecutionState


@dataclass(frozen=True, slots=True)
class Call:
    """Run user code ``fn(arg)``; an async front-end awaits the result if it is awaitable."""

    fn: Callable[[Any], Any]
    arg: Any


@dataclass(frozen=True, slots=True)
class Enter:
    """Run ``fn(child)`` where ``child`` is a context of the front-end's own flavour over ``scope``."""

    fn: Callable[[Any], Any]
    state: ExecutionState
    scope: Scope


@dataclass(frozen=True, slots=True)
class LoadPage:
    """Fetch the page of operations (GetDurableExecutionState) after ``marker``; answered with a
    `eventflow.backends.base.StatePage`."""

    arn: str
    token: str
    marker: str


Effect = Flush | Call | Enter | LoadPage
Plan = Generator[Effect, Any, T]
