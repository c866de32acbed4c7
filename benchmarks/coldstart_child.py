"""One cold start in a fresh interpreter, as `benchmarks.coldstart` runs it: `python coldstart_child.py SDK`.

Run as a script so that nothing but ``sys``, ``time`` and ``json`` is loaded before the clock starts
(the Lambda runtime has loaded ``json`` too before it imports a handler module: it parses events with
it). Three phases, each SDK's own way: import it and decorate a 3-step handler; build the boto3 lambda
client its AWS path uses (each SDK caches that client per process, so its first invocation reuses it,
as it would have built it there); run the first invocation, whose checkpoints go over HTTP to the
endpoint in ``AWS_ENDPOINT_URL_LAMBDA``. Prints one JSON line: wall seconds per phase, the CPU seconds
of all three, and the output.
"""

import json
import sys
import time

ARN = "arn:aws:lambda:us-east-1:000000000000:function:cold:$LATEST/durable-execution/cold/0"
EVENT = {
    "DurableExecutionArn": ARN,
    "CheckpointToken": "token-0",
    "InitialExecutionState": {
        "Operations": [
            {
                "Id": "execution",
                "Type": "EXECUTION",
                "Status": "STARTED",
                "StartTimestamp": 1_700_000_000_000,
                "ExecutionDetails": {"InputPayload": "{}"},
            }
        ]
    },
}


def main(sdk: str) -> None:
    start, start_cpu = time.perf_counter(), time.process_time()
    if sdk == "eventflow":
        import eventflow

        @eventflow.durable_execution
        def handler(event: dict[str, int], ctx: eventflow.DurableContext) -> list[int]:
            return [ctx.step(lambda _, i=i: i * i, name=f"step-{i}") for i in range(3)]

        imported = time.perf_counter()
        handler.backend().client  # noqa: B018 - built (and cached) here, not inside the invocation
    elif sdk == "official":
        from aws_durable_execution_sdk_python import DurableContext, durable_execution
        from aws_durable_execution_sdk_python.lambda_service import LambdaClient

        @durable_execution
        def handler(event: dict[str, int], ctx: DurableContext) -> list[int]:
            return [ctx.step(lambda _, i=i: i * i, name=f"step-{i}") for i in range(3)]

        imported = time.perf_counter()
        LambdaClient.initialize_client()
    else:
        raise SystemExit(f"unknown SDK {sdk!r}")
    client = time.perf_counter()
    output = handler(EVENT, None)
    done, done_cpu = time.perf_counter(), time.process_time()
    result = {
        "import": imported - start,
        "client": client - imported,
        "invoke": done - client,
        "total": done - start,
        "cpu": done_cpu - start_cpu,
        "output": output,
        "loaded": {name: name in sys.modules for name in ("pydantic", "pydantic_core", "boto3", "botocore")},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
