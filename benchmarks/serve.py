"""``python -m benchmarks.serve``: the local service over HTTP, as boto3 users see it.

Two measurements, printed as a table and written as JSON (``--json PATH``):

1. **checkpoint round trip**: one CheckpointDurableExecution over a keep-alive boto3 connection to an
   in-process `LocalHttpServer` (a STEP START+SUCCEED per call, each call on the token the previous one
   returned), median and p99 of the wall time boto3 spends per call. Issue 12's target: median <= 2 ms.
2. **concurrent clients** (``--clients 1,8,32``): ``eventflow serve`` and the official testing library's
   ``dex-local-runner`` (aws-durable-execution-sdk-python-testing 1.4.0, the ``bench`` extra), each in its own
   process, running the same official-SDK handler (`benchmarks.serve_functions`), driven by K threads each
   with its own boto3 client: executions per second, and the p50/p99 of the handler's checkpoint calls
   (timed by botocore hooks inside the function's process). See `throughput` for how each side is driven.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from eventflow.events.enums import OperationAction, OperationType
from eventflow.local import LocalService, VirtualClock
from eventflow.local.client import lambda_client
from eventflow.local.http import LocalHttpServer


boto3_client = lambda_client


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def checkpoint_round_trips(calls: int) -> dict[str, float]:
    """Per-call wall time of ``calls`` checkpoints from a handler on one keep-alive boto3 connection."""
    timings: list[float] = []
    with LocalHttpServer(LocalService(VirtualClock())) as server:
        lam = boto3_client(server.url)

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            arn, token = event["DurableExecutionArn"], event["CheckpointToken"]
            for i in range(calls + 20):  # the first 20 warm the connection and botocore's caches
                step = {"Id": f"s{i}", "Type": OperationType.STEP.value, "SubType": "Step"}
                updates = [
                    {**step, "Action": OperationAction.START.value},
                    {**step, "Action": OperationAction.SUCCEED.value, "Payload": str(i)},
                ]
                started = time.perf_counter()
                answer = lam.checkpoint_durable_execution(
                    DurableExecutionArn=arn, CheckpointToken=token, Updates=updates
                )
                elapsed = time.perf_counter() - started
                token = answer["CheckpointToken"]
                if i >= 20:
                    timings.append(elapsed)
            return {"Status": "SUCCEEDED", "Result": str(calls)}

        server.service.register("bench", handler)
        answer = lam.invoke(FunctionName="bench", Payload=b"{}")
        if json.loads(answer["Payload"].read()) != calls:
            raise RuntimeError("the checkpoint benchmark's execution did not succeed")
    return {
        "calls": calls,
        "median_ms": statistics.median(timings) * 1000,
        "p99_ms": percentile(timings, 0.99) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="checkpoints in the round-trip case")
    parser.add_argument("--clients", default="1,8,32", help="K values for the concurrent-clients case")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each K runs per service")
    parser.add_argument("--only", choices=["checkpoint", "clients"], help="run one case only")
    parser.add_argument("--no-official", action="store_true", help="skip dex-local-runner")
    parser.add_argument("--json", default="benchmark-serve.json", help="where the report goes")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    if args.only in (None, "checkpoint"):
        report["checkpoint_round_trip"] = rt = checkpoint_round_trips(args.calls)
        verdict = "PASS" if rt["median_ms"] <= 2.0 else "MISS"
        print(
            f"checkpoint over keep-alive boto3: median {rt['median_ms']:.3f} ms, p99 {rt['p99_ms']:.3f} ms "
            f"({rt['calls']} calls; target median <= 2 ms: {verdict})",
            flush=True,
        )
    if args.only in (None, "clients"):
        from benchmarks.serve_clients import print_table, throughput

        ks = [int(k) for k in args.clients.split(",")]
        report["clients"] = rows = throughput(ks, args.seconds, official=not args.no_official)
        print_table(rows)
    with open(args.json, "w") as file:
        json.dump(report, file, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
