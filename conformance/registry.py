"""Which eventflow handler covers which requirement, and which functions every run deploys.

Handlers register themselves with `covers` where they are defined (``conformance/handlers/<category>.py``),
one handler per requirement, so the requirement id sits right above the code written from its prose. A
handler that must really crash is marked ``sandbox=True`` and runs in a child process (see
`conformance.runtime.SandboxHandler`). Invoke targets register with `target`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from conformance.aws import Function

H = TypeVar("H", bound=Callable[..., Any])

HANDLER_MODULES = (
    "step",
    "wait",
    "child",
    "callback",
    "invoke",
    "wait_for_condition",
    "wait_for_callback",
    "parallel",
    "map",
    "plugin",
    "targets",
)


@dataclass(frozen=True)
class Coverage:
    requirement_id: str
    function: Function


_COVERED: dict[str, Coverage] = {}
_TARGETS: dict[str, Function] = {}


def _logical_id(handler: Any) -> str:
    name = getattr(handler, "__name__", None)
    if not name:
        raise TypeError(f"{handler!r} has no __name__ to deploy it under")
    return str(name).replace("_", "-")


def covers(*requirement_ids: str, sandbox: bool = False) -> Callable[[H], H]:
    """Register the decorated (module-level) handler as the function that covers ``requirement_ids``."""

    def register(handler: H) -> H:
        logical_id = _logical_id(handler)
        if sandbox:
            function = Function(logical_id, sandbox_ref=f"{handler.__module__}:{handler.__name__}")
        else:
            function = Function(logical_id, handler=handler)
        for rid in requirement_ids:
            if rid in _COVERED:
                raise ValueError(f"requirement {rid} is covered twice")
            _COVERED[rid] = Coverage(rid, function)
        return handler

    return register


def target(name: str) -> Callable[[H], H]:
    """Register the decorated handler as an invoke target deployed (as ``name``) in every world."""

    def register(handler: H) -> H:
        _TARGETS[name] = Function(name, handler=handler)
        return handler

    return register


@cache
def _load() -> None:
    for module in HANDLER_MODULES:
        importlib.import_module(f"conformance.handlers.{module}")


def coverage() -> dict[str, Coverage]:
    """Requirement id -> the function covering it."""
    _load()
    return dict(_COVERED)


def targets() -> list[Function]:
    """The invoke targets, deployed next to every covering function."""
    _load()
    return list(_TARGETS.values())
