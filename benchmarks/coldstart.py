"""Cold start, what a new Lambda sandbox pays: ``python -m benchmarks.coldstart`` (``--runs 7`` by default).

Each run is a fresh interpreter (`benchmarks/coldstart_child.py`) that imports an SDK, builds the boto3
lambda client its AWS path needs and runs a first 3-step invocation whose checkpoints go over HTTP, in
botocore's REST-JSON shape, to a stub service on the loopback interface (a thread of this process). The
children see dummy credentials, a region, ``AWS_ENDPOINT_URL_LAMBDA`` pointing at the stub, and no AWS
config files, so neither the machine's AWS setup nor the network is measured. The SDKs alternate (A B,
then B A); the first run of each is discarded (bytecode caches, the page cache). Prints the median of
each phase per SDK and the ratio of total times (official / eventflow: above 1 means eventflow starts
faster); issue 19's target is at least 1.5x. The ``cpu`` column (CPU time of the three phases) moves far
less than wall time when other processes share the machine. ``--json PATH`` writes every run.

The stub answers as the service does in outline: a new token, and each updated operation echoed in the
status its action leads to (timestamps as epoch seconds, the REST-JSON form), nothing validated.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.environment import describe, official_available

CHILD = Path(__file__).with_name("coldstart_child.py")
PHASES = ("import", "client", "invoke", "total", "cpu")
TARGET = 1.5
_CHECKPOINT = re.compile(r"^/2025-12-01/durable-executions/[^/]+/checkpoint$")
_STATUS_AFTER = {"START": "STARTED", "SUCCEED": "SUCCEEDED", "FAIL": "FAILED", "RETRY": "PENDING",
                 "CANCEL": "CANCELLED"}
_DETAILS = {"STEP": "StepDetails", "CONTEXT": "ContextDetails", "CALLBACK": "CallbackDetails",
            "CHAINED_INVOKE": "ChainedInvokeDetails"}


def echoed(update: dict[str, Any], now: float) -> dict[str, Any]:
    """The operation an update leaves behind, as CheckpointDurableExecution's answer carries it."""
    operation: dict[str, Any] = {
        "Id": update["Id"], "Type": update["Type"], "Status": _STATUS_AFTER[update["Action"]],
        "StartTimestamp": now,
    }
    for key in ("ParentId", "Name", "SubType"):
        if key in update:
            operation[key] = update[key]
    details_key = _DETAILS.get(update["Type"])
    if details_key is not None:
        details: dict[str, Any] = {"Attempt": 1} if update["Type"] == "STEP" else {}
        if "Payload" in update:
            details["Result"] = update["Payload"]
        if "Error" in update:
            details["Error"] = update["Error"]
        operation[details_key] = details
    return operation


class _Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    disable_nagle_algorithm = True  # else headers and body meet delayed ACKs: 40 ms per call
    calls = 0

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status != 200:
            self.send_header("X-Amzn-ErrorType", body["__type"])
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not _CHECKPOINT.match(self.path.split("?", 1)[0]):
            self._answer(404, {"__type": "ResourceNotFoundException", "message": self.path})
            return
        request = json.loads(body or b"{}")
        _Stub.calls += 1
        now = time.time()
        operations = {u["Id"]: echoed(u, now) for u in request.get("Updates") or ()}
        self._answer(200, {
            "CheckpointToken": f"token-{_Stub.calls}",
            "NewExecutionState": {"Operations": list(operations.values())},
        })

    def do_GET(self) -> None:  # GetDurableExecutionState: a first invocation never pages
        self._answer(200, {"Operations": []})


def child_env(endpoint: str, home: str) -> dict[str, str]:
    """The environment of a child: this one without AWS settings, plus a dummy AWS setup."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update({
        "AWS_ENDPOINT_URL_LAMBDA": endpoint,
        "AWS_ACCESS_KEY_ID": "AKIDCOLDSTART",
        "AWS_SECRET_ACCESS_KEY": "cold-start-secret",
        "AWS_SESSION_TOKEN": "cold-start-token",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(Path(home) / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(Path(home) / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


def run_child(sdk: str, env: dict[str, str]) -> dict[str, Any]:
    """One cold start of ``sdk``; fails loudly if its invocation did not succeed with the right result."""
    out = subprocess.run([sys.executable, str(CHILD), sdk], env=env, capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{sdk} cold start failed:\n{out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    output = result["output"]
    if output.get("Status") != "SUCCEEDED" or json.loads(output.get("Result") or "null") != [0, 1, 4]:
        raise RuntimeError(f"{sdk} cold start returned {output!r}")
    return result


def measure(sdks: list[str], runs: int) -> dict[str, list[dict[str, Any]]]:
    """``runs`` cold starts per SDK, interleaved, after one discarded warm-up each."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    results: dict[str, list[dict[str, Any]]] = {sdk: [] for sdk in sdks}
    try:
        with tempfile.TemporaryDirectory() as home:
            env = child_env(f"http://127.0.0.1:{server.server_address[1]}", home)
            for sdk in sdks:
                run_child(sdk, env)
            for r in range(runs):
                for sdk in sdks if r % 2 == 0 else list(reversed(sdks)):
                    calls = _Stub.calls
                    result = run_child(sdk, env)
                    result["calls"] = _Stub.calls - calls
                    results[sdk].append(result)
    finally:
        server.shutdown()
        server.server_close()
    return results


def medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {phase: statistics.median(run[phase] for run in runs) for phase in PHASES}


def report(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Print the medians per phase and the ratio; return them for ``--json``."""
    summary = {sdk: medians(runs) for sdk, runs in results.items()}
    print(f"{'cold start (median ms)':<24}" + "".join(f"{phase:>10}" for phase in PHASES))
    for sdk, figures in summary.items():
        print(f"{sdk:<24}" + "".join(f"{figures[phase] * 1e3:>10.1f}" for phase in PHASES))
    ratio = None
    if "official" in summary and "eventflow" in summary:
        ratio = summary["official"]["total"] / summary["eventflow"]["total"]
        verdict = "PASS" if ratio >= TARGET else "MISS"
        cpu_ratio = summary["official"]["cpu"] / summary["eventflow"]["cpu"]
        print(f"ratio official / eventflow: {ratio:.2f}x wall (target >= {TARGET}x: {verdict}), "
              f"{cpu_ratio:.2f}x CPU")
    print("checkpoint calls per invocation: " + ", ".join(
        f"{sdk} {statistics.median(run['calls'] for run in runs):g}" for sdk, runs in results.items()))
    loaded = {sdk: runs[-1]["loaded"] for sdk, runs in results.items()}
    print("modules loaded by the end: " + "; ".join(
        f"{sdk}: " + ", ".join(f"{name} {'yes' if on else 'no'}" for name, on in flags.items())
        for sdk, flags in loaded.items()))
    return {"medians_s": summary, "ratio": ratio, "runs": results}


def entry(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.coldstart", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--runs", type=int, default=7, help="cold starts per SDK (default 7)")
    parser.add_argument("--no-official", action="store_true", help="eventflow alone")
    parser.add_argument("--json", type=Path, help="write every run and the medians here")
    args = parser.parse_args(argv)
    sdks = ["eventflow"]
    if not args.no_official:
        if not official_available():
            print("the official SDK is not installed (pip install -e '.[bench]'); eventflow alone")
        else:
            sdks.append("official")
    summary = report(measure(sdks, args.runs))
    if args.json:
        summary["environment"] = describe()
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(entry())
