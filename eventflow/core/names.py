"""Which Name an operation records, and the decorators that give a function one.

Why this is its own module: the Name is part of what a replay checks (PROTOCOL.md §3), and the official
SDK checks it too. So eventflow records a Name exactly when the official SDK would: an explicit
``name=``, or a function that carries one from a decorator (`durable_step`, `durable_with_child_context`,
`durable_wait_for_callback`; functions wrapped by the official SDK's own decorators carry one as well). A
plain function or a lambda records no Name, whatever its ``__name__``: a history written that way replays
in the official SDK, which would raise ``NonDeterministicExecutionError`` on a Name it does not expect.

The function's ``__name__`` is still a *label*: for messages, and to accept histories written by earlier
eventflow versions, which recorded it as the Name (`replay_name`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

if TYPE_CHECKING:
    from eventflow.context import DurableContext
    from eventflow.core.operations.step import StepContext
    from eventflow.core.state import ExecutionState

P = ParamSpec("P")
T = TypeVar("T")

# The attribute eventflow's decorators set on the function they return.
NAME_ATTRIBUTE = "__durable_name__"
# The attribute the official SDK's decorators set (read so that functions decorated there keep their Name).
OFFICIAL_NAME_ATTRIBUTE = "_original_name"


def carried_name(fn: Callable[..., Any] | None) -> str | None:
    """The Name a decorated function carries, or None for a plain function or lambda."""
    if fn is None:
        return None
    for attribute in (NAME_ATTRIBUTE, OFFICIAL_NAME_ATTRIBUTE):
        value = getattr(fn, attribute, None)
        if isinstance(value, str) and value:
            return value
    return None


def resolve_name(name: str | None, fn: Callable[..., Any] | None) -> tuple[str | None, bool]:
    """``(name to record, carried)``: the given name, else the one the function carries from a decorator
    (``carried`` is then True), else None."""
    if name:
        return name, False
    carried = carried_name(fn)
    return carried, carried is not None


def label(name: str | None, fn: Callable[..., Any] | None) -> str | None:
    """What messages and compensation names call an operation: its Name, else the function's
    ``__name__`` (never ``<lambda>``). Never recorded as a Name by the step or context itself."""
    if name:
        return name
    carried = carried_name(fn)
    if carried is not None:
        return carried
    inferred = getattr(fn, "__name__", None)
    if not isinstance(inferred, str) or inferred == "<lambda>":
        return None
    return inferred


def replay_name(
    state: ExecutionState, op_id: str, name: str | None, carried: bool, fn: Callable[..., Any] | None
) -> str | None:
    """The Name to check against (and keep writing for) the operation recorded at ``op_id``.

    Two recorded shapes are accepted besides an exact match, both only about names, never about what
    runs: a history written by an earlier eventflow, which recorded an unnamed function's ``__name__``;
    and a decorated function whose history was written before it carried a name (recorded as None). In
    both cases the recorded Name is kept, so later updates of that operation do not change it.
    """
    entry = state.operations.entries.get(op_id)
    if entry is None:
        return name
    recorded = entry.get("name") if type(entry) is dict else entry.name  # type: ignore[union-attr]
    if recorded == name:
        return name
    if name is None and recorded is not None and recorded == label(None, fn):
        return recorded
    if carried and recorded is None:
        return None
    return name


def durable_step(
    fn: Callable[Concatenate[StepContext, P], T],
) -> Callable[P, Callable[[StepContext], T]]:
    """Give a step function a Name and bound arguments, as the official SDK's ``@durable_step`` does.

    ``@durable_step def charge(step, order_id): ...`` then ``ctx.step(charge("o-1"))`` runs
    ``charge(step, "o-1")`` as a step recorded with Name ``"charge"`` (an explicit ``name=`` still wins).
    """

    @functools.wraps(fn)
    def bind(*args: P.args, **kwargs: P.kwargs) -> Callable[[StepContext], T]:
        def run(step: StepContext) -> T:
            return fn(step, *args, **kwargs)

        setattr(run, NAME_ATTRIBUTE, fn.__name__)
        run.__name__ = fn.__name__
        return run

    return bind


def durable_with_child_context(
    fn: Callable[Concatenate[DurableContext, P], T],
) -> Callable[P, Callable[[DurableContext], T]]:
    """The same for a child-context function (also usable as a map function): ``ctx.child_context(
    ship("o-1"))`` records a CONTEXT named ``"ship"``."""

    @functools.wraps(fn)
    def bind(*args: P.args, **kwargs: P.kwargs) -> Callable[[DurableContext], T]:
        def run(ctx: DurableContext) -> T:
            return fn(ctx, *args, **kwargs)

        setattr(run, NAME_ATTRIBUTE, fn.__name__)
        run.__name__ = fn.__name__
        return run

    return bind


def durable_wait_for_callback(
    fn: Callable[Concatenate[str, StepContext, P], T],
) -> Callable[P, Callable[[str, StepContext], T]]:
    """The same for a `wait_for_callback` submitter: ``ctx.wait_for_callback(notify("ops"))`` records
    the WaitForCallback context as ``"notify"`` (its children ``"notify create callback id"`` and
    ``"notify submitter"``)."""

    @functools.wraps(fn)
    def bind(*args: P.args, **kwargs: P.kwargs) -> Callable[[str, StepContext], T]:
        def run(callback_id: str, step: StepContext) -> T:
            return fn(callback_id, step, *args, **kwargs)

        setattr(run, NAME_ATTRIBUTE, fn.__name__)
        run.__name__ = fn.__name__
        return run

    return bind


__all__ = [
    "carried_name",
    "durable_step",
    "durable_wait_for_callback",
    "durable_with_child_context",
    "label",
    "replay_name",
    "resolve_name",
]


def require_callable(fn: object, what: str, shape: str) -> None:
    """Refuse a non-callable ``fn`` when the operation is called, not when its code would run: a typed
    error naming the call and the function it expects (``what`` e.g. ``"ctx.step"``, ``shape`` e.g.
    ``"(step_context) -> value"``), with a hint for the common slip of passing the name first."""
    if callable(fn):
        return
    from eventflow.errors import InvalidInputError

    hint = f"; the name goes second or by keyword: {what}(fn, name={fn!r})" if isinstance(fn, str) else ""
    raise InvalidInputError(f"{what} expects a function {shape}, got {type(fn).__name__} {fn!r}{hint}")


def position_label(operations: Any, op_id: str, parent_id: str | None) -> str:
    """``root/2/1``: where ``op_id`` sits, for messages (ids are hashes of positions, PROTOCOL.md §3).

    ``operations`` maps ids to recorded operations (an `ExecutionState`'s), whose ParentIds lead up to
    the root; the labels come from `eventflow.testing.labels`. Only error messages call this, so it may
    cost a walk up the tree. An id no position explains is shortened to its first 12 hex digits."""
    from eventflow.testing.labels import IdLabeler

    chain: list[str] = []
    parent = parent_id
    while parent is not None and len(chain) < 1000:
        chain.append(parent)
        recorded = operations.get(parent)
        parent = recorded.parent_id if recorded is not None else None
    labeler = IdLabeler()
    above: str | None = None
    for ancestor in reversed(chain):
        labeler.label(ancestor, above)
        above = ancestor
    found = labeler.label(op_id, parent_id)
    return f"root/{found}" if found != op_id else op_id[:12]
