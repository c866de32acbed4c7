"""The durable functions the console tests run, and a server serving them on a real clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventflow import durable_execution
from eventflow.config import StepConfig
from eventflow.local import LocalService, RealClock
from eventflow.local.http import LocalHttpServer
from eventflow.retry import no_retry

SCRIPT = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'


@durable_execution
def approve(event: Any, ctx: Any) -> Any:
    """A step, then a callback whose answer it returns: RUNNING until someone answers."""
    ctx.step(lambda _: {"html": SCRIPT, "order": event.get("order")}, name="prepare")
    answer = ctx.wait_for_callback(lambda callback_id, _: None, name="approval")
    return {"answer": answer}


@durable_execution
def fan_out(event: Any, ctx: Any) -> Any:
    """A map of ``event["items"]`` items, one step each."""
    items = list(range(event["items"]))
    results = ctx.map(
        items, lambda c, item, i, all_items: c.step(lambda _: item * 2, name="double"), name="fan"
    )
    return sum(results.get_results())


@durable_execution
def flaky(event: Any, ctx: Any) -> Any:
    """A step that fails for good: an error to show."""

    def boom(_: Any) -> Any:
        raise ValueError("the warehouse said no")

    return ctx.step(boom, name="reserve", config=StepConfig(retry_strategy=no_retry))


def register(service: LocalService) -> None:
    service.register("approve", approve)
    service.register("fan_out", fan_out)
    service.register("flaky", flaky)


@contextmanager
def console_server() -> Iterator[LocalHttpServer]:
    """`eventflow serve`'s server (API and console) on a free loopback port, driving a real-clock service."""
    service = LocalService(RealClock())
    register(service)
    with LocalHttpServer(service) as server:
        yield server


def open_callback(service: LocalService, arn: str, timeout: float = 30.0) -> str:
    """Wait (on the service's changes, not by polling) until the execution has an open callback."""
    deadline = time.monotonic() + timeout
    seen = service.generation
    while True:
        callbacks = list(service.get(arn).callbacks)
        if callbacks:
            return callbacks[0]
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the execution opened no callback")
        seen = service.wait_for_change(seen, left)
