"""``python -m benchmarks.tracing``: a new step with tracing on (`eventflow.otel.OtelPlugin`) against off.

One run, both sides interleaved: the same invocation of N new steps against the floor backend, once plain
and once with the plugin writing to an SDK `TracerProvider` whose processor drops every span (so the
figure is eventflow's and the OpenTelemetry SDK's span bookkeeping, not an exporter's I/O). Target: the
traced step costs at most 2x the plain one. Prints per-step CPU time (median of the repetitions) and the
ratio; needs the ``otel`` extra.
"""

from __future__ import annotations

import argparse
import statistics

from benchmarks.eventflow_side import FloorBackend, invocation_input, steps_workflow
from benchmarks.workloads import Stopwatch, check_succeeded
from eventflow import durable_execution

TARGET_RATIO = 2.0


def measure(steps: int, reps: int) -> dict[str, float]:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

    from eventflow.otel import OtelPlugin

    provider = TracerProvider()
    provider.add_span_processor(SpanProcessor())  # the base processor keeps nothing
    workflow, event = steps_workflow(steps), invocation_input()
    plain = durable_execution(backend=FloorBackend())(workflow)
    traced = durable_execution(backend=FloorBackend(), plugins=[OtelPlugin(provider)])(workflow)
    samples: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(reps):
        for label, handler in (("off", plain), ("on", traced)):
            watch = Stopwatch()
            output = handler(event, None)
            elapsed = watch.stop()
            check_succeeded(output, steps)
            samples[label].append(elapsed.cpu / steps)
    off, on = statistics.median(samples["off"]), statistics.median(samples["on"])
    return {"off_us": off * 1e6, "on_us": on * 1e6, "ratio": on / off}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tracing")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args(argv)
    figures = measure(args.steps, args.reps)
    verdict = "within" if figures["ratio"] <= TARGET_RATIO else "OVER"
    print(
        f"new step, tracing off {figures['off_us']:8.1f} us   on {figures['on_us']:8.1f} us   "
        f"ratio {figures['ratio']:.2f}x ({verdict} the {TARGET_RATIO:.0f}x target)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
