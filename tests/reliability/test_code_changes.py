"""Code changed between invocations is caught at the first mismatching operation (the official SDK's #692).

A random program of steps, waits and child contexts runs one invocation on the local service (up to its
first wait), leaving a recorded prefix: operations done, the contexts around the wait STARTED. The
program is then edited (an operation renamed, two neighbours swapped, one inserted, one deleted, at
any depth) and the edited program replays that record. A model of replay says what must happen: walk
the edited program depth-first; at the first position whose recorded operation differs in type or name,
the invocation must fail with `NonDeterministicExecutionError` naming *that* operation id; reaching
unrecorded ground first (or a finished child whose body is not re-run) makes the edit harmless, and
then every replayed step must return its own recorded result, never another operation's.

The handler catches `ChildContextError` around every child context, as real code does, so
non-determinism inside a child must not be reportable as the child's ordinary failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventflow import ChildContextError, DurableContext
from eventflow.backends.base import CheckpointResult, StatePage
from eventflow.events.enums import OperationAction
from eventflow.events.wire import OperationUpdate
from eventflow.handler import DurableHandler
from eventflow.ids import child_id
from eventflow.local import LocalService

from .conftest import examples


@dataclass(frozen=True)
class S:  # a step
    name: str


@dataclass(frozen=True)
class W:  # a wait
    pass


@dataclass(frozen=True)
class C:  # a child context
    name: str
    body: tuple[Node, ...]


Node = S | W | C
Program = tuple[Node, ...]

names = st.sampled_from(["a", "b", "c"])
leaf = st.one_of(st.builds(S, names), st.just(W()))
nodes = st.recursive(
    leaf, lambda inner: st.builds(C, names, st.lists(inner, min_size=1, max_size=4).map(tuple)), max_leaves=10
)
programs = st.lists(nodes, min_size=1, max_size=5).map(tuple)


def key(node: Node) -> tuple[str, str | None]:
    if isinstance(node, S):
        return ("STEP", node.name)
    if isinstance(node, W):
        return ("WAIT", None)
    return ("CONTEXT", node.name)


def run(ctx: DurableContext, body: Program) -> list[Any]:
    out: list[Any] = []
    for node in body:
        if isinstance(node, S):
            out.append(ctx.step(lambda sc: sc.operation_id, name=node.name))
        elif isinstance(node, W):
            ctx.wait(seconds=5)
        else:
            inner = node.body
            try:
                out.append(ctx.child_context(lambda c, inner=inner: run(c, inner), name=node.name))
            except ChildContextError as exc:
                out.append(f"child failed: {exc.error_type}")
    return out


# -- the model of replay ----------------------------------------------------------------------------


def recorded_prefix(program: Program) -> dict[str, tuple[tuple[str, str | None], bool]]:
    """What one invocation of ``program`` records: op id -> (key, finished), up to the first wait."""
    out: dict[str, tuple[tuple[str, str | None], bool]] = {}

    def walk(body: Program, parent: str | None) -> bool:  # True: it stopped at a wait
        for i, node in enumerate(body):
            op_id = child_id(parent, i + 1)
            if isinstance(node, W):
                out[op_id] = (key(node), False)
                return True
            if isinstance(node, C):
                out[op_id] = (key(node), False)
                if walk(node.body, op_id):
                    return True
            out[op_id] = (key(node), True)
        return False

    walk(program, None)
    return out


def first_mismatch(edited: Program, record: dict[str, tuple[tuple[str, str | None], bool]]) -> str | None:
    """The id where replaying ``edited`` over ``record`` must detect non-determinism, if any."""

    def walk(body: Program, parent: str | None) -> tuple[str | None, bool]:  # (mismatch, stop)
        for i, node in enumerate(body):
            op_id = child_id(parent, i + 1)
            found = record.get(op_id)
            if found is None:
                return None, True  # new ground: nothing later is recorded
            recorded_key, finished = found
            if recorded_key != key(node):
                return op_id, True
            if isinstance(node, W) and not finished:
                return None, True  # the recorded wait suspends the replay
            if isinstance(node, C) and not finished:
                return walk(node.body, op_id)  # a STARTED child holds the wait: nothing after it
        return None, False

    return walk(edited, None)[0]


# -- edits --------------------------------------------------------------------------------------------------


def positions(body: Program, path: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    out = []
    for i, node in enumerate(body):
        out.append((*path, i))
        if isinstance(node, C):
            out.extend(positions(node.body, (*path, i)))
    return out


def edit_at(body: Program, path: tuple[int, ...], how: str, new: Node) -> Program:
    i, rest = path[0], path[1:]
    items = list(body)
    if rest:
        target = items[i]
        assert isinstance(target, C)
        items[i] = replace(target, body=edit_at(target.body, rest, how, new))
        return tuple(items)
    node = items[i]
    if how == "rename":
        items[i] = replace(node, name=new.name) if isinstance(node, S | C) and isinstance(new, S) else new
    elif how == "swap" and i + 1 < len(items):
        items[i], items[i + 1] = items[i + 1], items[i]
    elif how == "insert":
        items.insert(i, new)
    elif how == "delete" and (len(items) > 1 or path != (i,)):
        del items[i]
    return tuple(items)


class Permissive:
    """Takes any checkpoint (the edited code may write what the real service would refuse) and records
    the updates, so the test can see what the edited code tried to write."""

    def __init__(self) -> None:
        self.updates: list[OperationUpdate] = []
        self.n = 0

    def checkpoint(self, arn: str, token: str, updates: Sequence[OperationUpdate]) -> CheckpointResult:
        self.updates.extend(updates)
        self.n += 1
        return CheckpointResult(f"t{self.n}", [])

    def get_state(self, arn: str, token: str, marker: str) -> StatePage:
        raise AssertionError("no paging expected")


STATS = {"edits": 0, "detected": 0, "harmless": 0}


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    program=programs,
    data=st.data(),
    how=st.sampled_from(["rename", "swap", "insert", "delete"]),
    new=st.one_of(st.builds(S, st.sampled_from(["a", "b", "c", "z"])), st.just(W())),
)
def test_an_edited_program_is_caught_at_its_first_mismatch_or_is_harmless(
    program: Program, data: st.DataObject, how: str, new: Node
) -> None:
    path = data.draw(st.sampled_from(positions(program)), label="where")
    edited = edit_at(program, path, how, new)

    service = LocalService()
    service.register("old", DurableHandler(lambda event, ctx: run(ctx, program), service))
    execution = service.start_execution("old", {})
    service.invoke(execution.arn)
    event = service.invocation_input(execution)
    recorded = {op.id: op for op in service.get(execution.arn).operations.values()}

    backend = Permissive()
    output = DurableHandler(lambda e, ctx: run(ctx, edited), backend)(event, None)
    expected = first_mismatch(edited, recorded_prefix(program))
    STATS["edits"] += 1
    if expected is not None:
        STATS["detected"] += 1
        assert output["Status"] == "FAILED", (expected[:8], output)
        error = output["Error"]
        assert error["ErrorType"] == "eventflow.errors.NonDeterministicExecutionError", error
        assert expected in error["ErrorMessage"], error
        # Nothing about a recorded operation was rewritten on the way to the error, except that an
        # enclosing STARTED context may record where the code diverged (FAIL carrying this very error,
        # as the official SDK does); the mismatched operation itself is never written.
        nde = "eventflow.errors.NonDeterministicExecutionError"
        rewritten = [
            u
            for u in backend.updates
            if u.id in recorded
            and u.action != OperationAction.START
            and not (
                u.action == OperationAction.FAIL
                and str(u.type) == "CONTEXT"
                and u.error is not None
                and u.error.error_type == nde
                and u.id != expected
            )
        ]
        assert not rewritten, [(u.id[:8], u.action) for u in rewritten]
    else:
        STATS["harmless"] += 1
        assert output["Status"] in ("SUCCEEDED", "PENDING"), output
        # A replayed step returned its own recorded result (the step result is its own op id).
        for op_id, op in recorded.items():
            if op.step_details is not None and op.step_details.result is not None:
                assert op.step_details.result == f'"{op_id}"'
