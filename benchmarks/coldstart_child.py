"""One cold start, run as ``python coldstart_child.py SDK EVENT_JSON`` in a fresh interpreter.

What a new Lambda sandbox pays before its first invocation answers, in three timed phases:

1. import: import the SDK and decorate the handler (a module's top level, the sandbox's init phase);
2. client: build the boto3 ``lambda`` client the SDK's AWS path uses, the way that path builds it
   (eventflow: the handler's default backend, `LambdaBackend`, whose module imports boto3 on first use;
   the official SDK: ``LambdaClient.initialize_client()``, which its wrapper calls on every invocation
   and which caches the boto3 client for the process). Done ahead of the invocation only so that it can
   be timed apart: the invocation then finds the same cached client it would have built itself;
3. invocation: the first invocation of a 3-step handler, its checkpoints going over HTTP to whatever
   ``AWS_ENDPOINT_URL_LAMBDA`` points at (`benchmarks.loopback` in the benchmark).

Only the standard library is imported before the clock starts, and nothing of `benchmarks`: the phases
contain the SDK's work and nothing else. Prints one JSON line: the three durations and the output.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

STEPS = 3


def eventflow(event: dict[str, Any]) -> tuple[float, float, float, float, Any]:
    start = time.perf_counter()
    from eventflow import durable_execution

    @durable_execution
    def handler(event: Any, ctx: Any) -> int:
        return sum(ctx.step(lambda _, i=i: i, name="step") for i in range(STEPS))

    imported = time.perf_counter()
    # The default LambdaBackend (cached per process) and its lambda client, which it builds on first use.
    _ = handler.backend().client  # type: ignore[attr-defined]
    client = time.perf_counter()
    output = handler(event, None)
    return start, imported, client, time.perf_counter(), output


def official(event: dict[str, Any]) -> tuple[float, float, float, float, Any]:
    start = time.perf_counter()
    from aws_durable_execution_sdk_python import durable_execution

    @durable_execution
    def handler(event: Any, ctx: Any) -> int:
        return sum(ctx.step(lambda _, i=i: i, name="step") for i in range(STEPS))

    imported = time.perf_counter()
    from aws_durable_execution_sdk_python.lambda_service import LambdaClient

    LambdaClient.initialize_client()  # what the wrapper calls first: builds and caches the boto3 client
    client = time.perf_counter()
    output = handler(event, None)  # type: ignore[arg-type]  # as the harness's other official cases
    return start, imported, client, time.perf_counter(), output


LOADED = ("pydantic", "pydantic_core", "boto3", "botocore")


def main() -> None:
    sdk, raw = sys.argv[1], sys.argv[2]
    event = json.loads(raw)
    start, imported, client, done, output = {"eventflow": eventflow, "official": official}[sdk](event)
    print(
        json.dumps(
            {
                "import_s": imported - start,
                "client_s": client - imported,
                "invocation_s": done - client,
                "output": output,
                # What the sandbox paid for: eventflow's first invocation needs no pydantic (nor boto3).
                "loaded": {module: module in sys.modules for module in LOADED},
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
