"""``python -m benchmarks.runtimes``: the cost of one invocation in a worker process against in process.

Two measurements on a real-clock `LocalService` behind its HTTP front (what ``eventflow serve`` runs):

- *plain invocation*: one call of a plain handler through its runtime (`InProcessRuntime` vs a warm
  `SandboxRuntime.python` sandbox): the Runtime API's two local round trips (``next``, ``response``) and
  the JSON both ways, nothing else;
- *one-step execution*: start an execution of a durable handler with one step and wait for its end. In
  process it checkpoints straight into the service; in a worker, over HTTP with boto3 (one checkpoint),
  plus the invocation's hand-over;
- *cold start*: the first invocation of a fresh sandbox (process start, imports, the handler module).

Prints medians and p90s in milliseconds, and writes them to ``--json PATH`` if asked.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventflow import durable_execution
from eventflow.local.clock import RealClock
from eventflow.local.engine import LocalService
from eventflow.local.functions import LambdaContext
from eventflow.local.http import LocalHttpServer, _Handler
from eventflow.local.runtime import InProcessRuntime, Runtime
from eventflow.local.sandbox_pool import SandboxRuntime

MODULE = '''
from eventflow import durable_execution


def plain(event, context):
    return {"n": event["n"]}


@durable_execution
def one_step(event, ctx):
    return ctx.step(lambda _: event["n"] + 1, name="inc")
'''


def plain(event: Any, context: Any) -> Any:
    return {"n": event["n"]}


@durable_execution
def one_step(event: Any, ctx: Any) -> Any:
    return ctx.step(lambda _: event["n"] + 1, name="inc")


def _times(run: Callable[[int], None], count: int, warmup: int = 3) -> list[float]:
    for i in range(warmup):
        run(i)
    out = []
    for i in range(count):
        start = time.perf_counter()
        run(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1], 3),
        "n": len(ordered),
    }


def measure(count: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    clock = RealClock()
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "bench_flows.py").write_text(MODULE)
        service = LocalService(clock, concurrency=2)
        server = LocalHttpServer(service).start()
        try:
            in_process: Runtime = InProcessRuntime(plain)
            worker = SandboxRuntime.python(
                "plain", "bench_flows:plain", server.url, max_sandboxes=1, cwd=root
            )

            def call(runtime: Runtime) -> Callable[[int], None]:
                def run(i: int) -> None:
                    context = LambdaContext.starting_at(clock.now(), "plain", "arn", clock)
                    assert runtime.invoke({"n": i}, context, 30) == {"n": i}

                return run

            results["plain invocation, in process"] = _summary(_times(call(in_process), count))
            results["plain invocation, worker process"] = _summary(_times(call(worker), count))
            worker.close()

            cold = []
            for i in range(max(3, count // 20)):
                fresh = SandboxRuntime.python("plain", "bench_flows:plain", server.url, cwd=root)
                start = time.perf_counter()
                call(fresh)(i)
                cold.append((time.perf_counter() - start) * 1000)
                fresh.close()
            results["plain invocation, cold worker"] = _summary(cold)

            service.register("in_process", one_step)
            steps = SandboxRuntime.python(
                "worker", "bench_flows:one_step", server.url, max_sandboxes=1, cwd=root
            )
            service.register("worker", steps)

            def execution(name: str) -> Callable[[int], None]:
                def run(i: int) -> None:
                    arn = service.start_execution(name, {"n": i}).arn
                    done = service.wait_for(arn, timeout=60)
                    assert done.result == str(i + 1), (done.status, done.error)

                return run

            results["one-step execution, in process"] = _summary(_times(execution("in_process"), count))
            results["one-step execution, worker process"] = _summary(_times(execution("worker"), count))
            if not getattr(_Handler, "disable_nagle_algorithm", False):
                # The HTTP front as it will be with TCP_NODELAY (its headers and body are two writes, so
                # with Nagle's algorithm on each checkpoint waits ~40 ms for a delayed ACK).
                _Handler.disable_nagle_algorithm = True
                try:  # a fresh sandbox: its kept-alive connection is opened with the option on
                    fresh = SandboxRuntime.python(
                        "worker_nodelay", "bench_flows:one_step", server.url, max_sandboxes=1, cwd=root
                    )
                    service.register("worker_nodelay", fresh)
                    results["one-step execution, worker process, TCP_NODELAY"] = _summary(
                        _times(execution("worker_nodelay"), count)
                    )
                finally:
                    _Handler.disable_nagle_algorithm = False
        finally:
            server.stop()
            service.close_runtimes()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.runtimes", description=__doc__)
    parser.add_argument("--count", type=int, default=200, help="timed repetitions per case")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    results = measure(args.count)
    width = max(map(len, results))
    print(f"{'case':<{width}}  median ms  p90 ms")
    for name, row in results.items():
        print(f"{name:<{width}}  {row['median_ms']:>9.3f}  {row['p90_ms']:>6.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
