"""Cold start: a fresh interpreter per sample, what a new Lambda sandbox pays up to its first answer.

Each sample runs `benchmarks/coldstart_child.py` in a new process, which imports the SDK, builds the boto3
``lambda`` client, and runs a first 3-step invocation whose checkpoints go over HTTP to
`benchmarks.loopback.LoopbackLambda`, started here for the run. Both SDKs find it through
``AWS_ENDPOINT_URL_LAMBDA``, with dummy credentials and a region in the environment (as a sandbox has
them) and no config files, so botocore resolves everything without touching the disk or the network.

Samples alternate between the SDKs (A B, then B A). Bytecode caches stay on (a deployed function imports
compiled modules), so one round is run first and discarded: it writes the caches of an editable install.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.loopback import LoopbackLambda
from benchmarks.workloads import check_succeeded, invocation_input

CHILD = Path(__file__).with_name("coldstart_child.py")
PHASES = ("import_s", "client_s", "invocation_s")
EXPECTED = 3  # the child's handler returns 0 + 1 + 2


def sandbox_environment(endpoint: str, home: Path) -> dict[str, str]:
    """The environment of a child: the caller's, minus AWS settings, plus what a sandbox would have."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in {"PYTHONDONTWRITEBYTECODE", "BOTO_CONFIG"}
    }
    env.update(
        {
            "AWS_ENDPOINT_URL_LAMBDA": endpoint,
            "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
            "AWS_SECRET_ACCESS_KEY": "benchmark-secret",
            "AWS_SESSION_TOKEN": "benchmark-session",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "config"),  # absent files: nothing read from the caller's home
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


def one_sample(sdk: str, env: dict[str, str], event: str, server: LoopbackLambda) -> dict[str, Any]:
    """Run one child; its phase times, the whole process's wall time, and the calls it made."""
    calls, updates = server.counts.calls, server.counts.updates
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(CHILD), sdk, event], check=False, capture_output=True, text=True, env=env
    )
    process_s = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"{sdk} cold start failed ({out.returncode}): {out.stderr.strip()[-800:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    check_succeeded(result.pop("output"), EXPECTED)
    result["total_s"] = sum(result[phase] for phase in PHASES)
    result["process_s"] = process_s
    result["calls"] = server.counts.calls - calls
    result["updates"] = server.counts.updates - updates
    return result


def measure(sdks: list[str], reps: int) -> dict[str, Any]:
    """``reps`` cold starts per SDK, interleaved, after one discarded round; medians of every phase."""
    event = json.dumps(invocation_input())
    samples: dict[str, list[dict[str, Any]]] = {sdk: [] for sdk in sdks}
    errors: dict[str, str] = {}
    with LoopbackLambda() as server, tempfile.TemporaryDirectory() as home:
        env = sandbox_environment(server.url, Path(home))
        for r in range(reps + 1):
            for sdk in sdks if r % 2 == 0 else list(reversed(sdks)):
                if sdk in errors:
                    continue
                try:
                    sample = one_sample(sdk, env, event, server)
                except (RuntimeError, AssertionError, ValueError) as exc:
                    errors[sdk] = f"{type(exc).__name__}: {exc}"
                    continue
                if r > 0:
                    samples[sdk].append(sample)
        unexpected = list(server.counts.paths)
    medians = {
        sdk: {key: statistics.median(s[key] for s in runs) for key in (*PHASES, "total_s", "process_s")}
        | {
            "calls": statistics.median(s["calls"] for s in runs),
            "updates": statistics.median(s["updates"] for s in runs),
        }
        for sdk, runs in samples.items()
        if runs
    }
    return {
        "reps": reps,
        "samples": samples,
        "median": medians,
        "errors": errors,
        "unexpected_routes": unexpected,
    }


def describe(result: dict[str, Any]) -> str:
    """The printed block: one line per SDK, then the ratio of totals."""
    lines = ["cold start (fresh process: import, boto3 client, first 3-step invocation over loopback HTTP)"]
    for sdk, m in result["median"].items():
        lines.append(
            f"  {sdk:<10} import {m['import_s'] * 1e3:7.1f} ms  client {m['client_s'] * 1e3:7.1f} ms  "
            f"invocation {m['invocation_s'] * 1e3:7.1f} ms  total {m['total_s'] * 1e3:7.1f} ms  "
            f"(process {m['process_s'] * 1e3:.0f} ms; {m['calls']:g} calls, {m['updates']:g} updates)"
        )
    for sdk, error in result["errors"].items():
        lines.append(f"  ERROR {sdk}: {error}")
    if result["unexpected_routes"]:
        lines.append(f"  unexpected routes: {result['unexpected_routes']}")
    return "\n".join(lines)
