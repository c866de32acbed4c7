"""Views of a large history: ``python -m benchmarks.views`` (``--smoke`` for a tiny run, ``--ops N``).

Why: every view (the history table, the tree, the timeline, Mermaid, the checkpoint lines of a snapshot)
labels each operation id (`eventflow.testing.labels`), and a labeller that searches grows faster than the
history. This runs one execution of ``--ops`` operations on the in-memory local service -- root steps, a
NESTED map whose items each run a step and a child context with a step, and a FLAT map of one-step items,
so every way an id derives is exercised -- then times each view of its history and measures its peak
memory (tracemalloc). The target (issue 15): every view of a 100,000-operation history in at most 5 s,
with memory bounded (the peak is reported per operation, and must not grow with the history's size).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from eventflow import DurableContext, MapConfig, NestingType, durable_execution
from eventflow.events.history import Event
from eventflow.local import LocalService
from eventflow.local.clock import VirtualClock
from eventflow.local.store import MemoryStore
from eventflow.testing.labels import IdLabeler
from eventflow.testing.lines import render_history
from eventflow.views import execution_timeline, execution_tree, history_table, mermaid_tree

TARGET_SECONDS = 5.0
TARGET_OPS = 100_000


def shape(ops: int) -> tuple[int, int, int]:
    """``(root steps, nested items, flat items)`` for about ``ops`` operations: a tenth at the root, 60 % in
    the nested map (four operations per item), the rest in the flat map (one per item)."""
    root = max(1, ops // 10)
    nested = max(1, (ops * 6 // 10) // 4)
    flat = max(1, ops - root - 4 * nested - 3)
    return root, nested, flat


def _workflow(root: int, nested: int, flat: int) -> Callable[..., Any]:
    def item(ctx: DurableContext, x: int, i: int, items: object) -> int:
        ctx.step(lambda _: x, name="load")
        return ctx.child_context(lambda c: c.step(lambda _: x + 1, name="inner"), name="sub")

    def flat_item(ctx: DurableContext, x: int, i: int, items: object) -> int:
        return ctx.step(lambda _: x, name="one")

    @durable_execution
    def handler(event: Any, ctx: DurableContext) -> int:
        for n in range(root):
            ctx.step(lambda _, n=n: n, name=f"root-{n}")
        ctx.map(list(range(nested)), item, name="nested")
        ctx.map(list(range(flat)), flat_item, name="flat", config=MapConfig(nesting_type=NestingType.FLAT))
        return 0

    return handler


def record(ops: int) -> list[Event]:
    """The history of one execution of about ``ops`` operations."""
    service = LocalService(VirtualClock(datetime(2025, 1, 1, tzinfo=UTC)), store=MemoryStore())
    service.register("views", _workflow(*shape(ops)))
    execution = service.start_execution("views")
    service.run(execution.arn)
    if str(execution.status) != "SUCCEEDED":
        raise RuntimeError(f"the workload did not succeed: {execution.status} {execution.error}")
    return service.history(execution.arn)


def _is_execution(event: Event) -> bool:
    return str(event.event_type).startswith("Execution")


def _labels(events: list[Event]) -> str:
    """The labels alone: one per event, as the history table asks for them."""
    labeler = IdLabeler()
    return "\n".join(labeler.label(e.id, e.parent_id) for e in events if e.id and not _is_execution(e))


VIEWS: dict[str, Callable[[list[Event]], str]] = {
    "labels": _labels,
    "history_table": history_table,
    "tree": execution_tree,
    "timeline": execution_timeline,
    "mermaid": mermaid_tree,
    "snapshot_lines": render_history,
}


def measure(events: list[Event], operations: int) -> list[dict[str, Any]]:
    rows = []
    for name, view in VIEWS.items():
        started = time.perf_counter()
        text = view(events)
        seconds = time.perf_counter() - started
        tracemalloc.start()
        view(events)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        raw = sum(1 for line in text.splitlines() if _unlabelled(line))
        rows.append({
            "view": name, "seconds": round(seconds, 3), "peak_mib": round(peak / 2**20, 1),
            "peak_bytes_per_op": round(peak / operations), "unlabelled_lines": raw,
        })
    return rows


def _unlabelled(line: str) -> bool:
    """A line showing a 64-hex id instead of a label (each view shortens or prints them differently)."""
    return any(len(word) >= 12 and all(c in "0123456789abcdef" for c in word) for word in line.split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.views", description=__doc__)
    parser.add_argument("--ops", type=int, default=TARGET_OPS, help=f"operations (default {TARGET_OPS:,})")
    parser.add_argument("--smoke", action="store_true", help="a tiny run (300 operations)")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    ops = 300 if args.smoke else args.ops
    started = time.perf_counter()
    events = record(ops)
    operations = len({e.id for e in events if e.id})
    print(f"history: {operations:,} operations, {len(events):,} events "
          f"(recorded in {time.perf_counter() - started:.1f} s)")
    rows = measure(events, operations)
    print(f"{'view':<16} {'seconds':>8} {'peak MiB':>9} {'B/op':>6}  verdict (<= {TARGET_SECONDS:g} s)")
    for row in rows:
        verdict = "PASS" if row["seconds"] <= TARGET_SECONDS and not row["unlabelled_lines"] else "MISS"
        row["verdict"] = verdict if operations >= TARGET_OPS else "N/A"
        print(f"{row['view']:<16} {row['seconds']:>8.2f} {row['peak_mib']:>9.1f} "
              f"{row['peak_bytes_per_op']:>6}  {row['verdict']}"
              + (f" ({row['unlabelled_lines']} lines without a label)" if row["unlabelled_lines"] else ""))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump({"operations": operations, "events": len(events), "rows": rows}, file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
