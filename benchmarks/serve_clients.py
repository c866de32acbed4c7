"""K concurrent boto3 clients against ``eventflow serve`` and ``dex-local-runner`` (see `benchmarks.serve`).

Each service runs in its own process with the same official-SDK function (`benchmarks.serve_functions`):
``eventflow serve`` hosts it in process (the function checkpoints back over HTTP); ``dex-local-runner``
invokes it through a Lambda Invoke endpoint in a third process. Each of K threads has its own boto3 client
and runs executions back to back for the given time: on eventflow a RequestResponse Invoke (it answers when
the execution ends); on dex-local-runner, which has no Invoke route, POST /start-durable-execution and then
GetDurableExecution until the execution ends (every 5 ms; dex's own CLI does the same). Executions per second
count the executions that ended SUCCEEDED; checkpoint p50/p99 are the function's checkpoint calls.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.serve import boto3_client, percentile


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the service did not start listening")


@contextmanager
def _processes(*commands: tuple[list[str], int], env: dict[str, str]) -> Iterator[None]:
    started = []
    try:
        for command, port in commands:
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started.append(process)
            _wait_listening(port, process)
        yield
    finally:
        for process in started:
            process.terminate()
            process.wait(timeout=10)


def _eventflow_run(url: str) -> Callable[[Any], bool]:
    def one(lam: Any) -> bool:
        answer = lam.invoke(FunctionName="bench", Payload=b'{"n": 1}')
        return "FunctionError" not in answer and json.loads(answer["Payload"].read()) == 6

    return one


def _dex_run(url: str) -> Callable[[Any], bool]:
    def one(lam: Any) -> bool:
        body = {
            "AccountId": "000000000000",
            "FunctionName": "bench",
            "FunctionQualifier": "$LATEST",
            "ExecutionName": str(uuid.uuid4()),
            "ExecutionTimeoutSeconds": 300,
            "ExecutionRetentionPeriodDays": 1,
            "Input": '{"n": 1}',
        }
        request = urllib.request.Request(
            f"{url}/start-durable-execution", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request) as response:
            arn = json.loads(response.read())["ExecutionArn"]
        while True:
            status = lam.get_durable_execution(DurableExecutionArn=arn)["Status"]
            if status != "RUNNING":
                return bool(status == "SUCCEEDED")
            time.sleep(0.005)

    return one


def _drive(k: int, seconds: float, url: str, run: Callable[[Any], bool]) -> tuple[int, float]:
    done = [0] * k
    stop_at = time.monotonic() + seconds
    clients = [boto3_client(url) for _ in range(k)]

    def worker(i: int) -> None:
        while time.monotonic() < stop_at:
            if run(clients[i]):
                done[i] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(k)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done), time.monotonic() - started


def _row(service: str, k: int, executions: int, elapsed: float, timings_path: str) -> dict[str, Any]:
    with open(timings_path) as file:
        timings = [float(line) for line in file if line.strip()]
    os.truncate(timings_path, 0)
    return {
        "service": service,
        "clients": k,
        "executions": executions,
        "executions_per_second": executions / elapsed,
        "checkpoints": len(timings),
        "checkpoint_p50_ms": percentile(timings, 0.5) * 1000 if timings else None,
        "checkpoint_p99_ms": percentile(timings, 0.99) * 1000 if timings else None,
    }


def throughput(ks: list[int], seconds: float, *, official: bool = True) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    work = tempfile.mkdtemp(prefix="serve-bench-")
    timings = os.path.join(work, "timings")
    open(timings, "w").close()
    base_env = {**os.environ, "BENCH_TIMINGS": timings, "AWS_REGION": "us-east-1"}
    base_env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")  # dex invokes through boto3
    base_env["PYTHONPATH"] = os.getcwd() + os.pathsep + base_env.get("PYTHONPATH", "")
    try:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        serve = [
            sys.executable,
            "-m",
            "eventflow",
            "--db",
            os.path.join(work, "serve.db"),
            "serve",
            "--port",
            str(port),
            "--function",
            "bench=benchmarks.serve_functions:handler",
        ]
        with _processes((serve, port), env={**base_env, "AWS_ENDPOINT_URL_LAMBDA": url}):
            _drive(1, 1.0, url, _eventflow_run(url))  # warm up
            os.truncate(timings, 0)
            for k in ks:
                rows.append(
                    _row("eventflow serve", k, *_drive(k, seconds, url, _eventflow_run(url)), timings)
                )
        dex = shutil.which("dex-local-runner")
        if official and dex:
            port, host_port = _free_port(), _free_port()
            url = f"http://127.0.0.1:{port}"
            runner = [
                dex,
                "start-server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--lambda-endpoint",
                f"http://127.0.0.1:{host_port}",
                "--local-runner-endpoint",
                url,
                "--log-level",
                "ERROR",
            ]
            function_host = [sys.executable, "-m", "benchmarks.serve_functions", str(host_port)]
            env = {**base_env, "AWS_ENDPOINT_URL_LAMBDA": url}
            with _processes((function_host, host_port), (runner, port), env=env):
                _drive(1, 1.0, url, _dex_run(url))
                os.truncate(timings, 0)
                for k in ks:
                    rows.append(_row("dex-local-runner", k, *_drive(k, seconds, url, _dex_run(url)), timings))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'service':<18} {'K':>3} {'exec/s':>9} {'checkpoints':>12} {'ckpt p50 ms':>12} {'ckpt p99 ms':>12}"
    )
    for row in rows:
        p50, p99 = row["checkpoint_p50_ms"], row["checkpoint_p99_ms"]
        print(
            f"{row['service']:<18} {row['clients']:>3} {row['executions_per_second']:>9.1f} "
            f"{row['checkpoints']:>12} {'-' if p50 is None else f'{p50:.2f}':>12} "
            f"{'-' if p99 is None else f'{p99:.2f}':>12}"
        )
