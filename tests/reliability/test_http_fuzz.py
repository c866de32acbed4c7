"""Fuzzed requests to the local service's HTTP API: every answer is a 2xx or a 4xx, never a 5xx or a hang.

Requests are built around the real routes (so they reach the handlers, not only the router): a real
execution's ARN and a real callback id, mangled or not, unknown ones, every method, query strings with
wrong types, and bodies that are valid JSON of the wrong shape, invalid JSON, binary noise or empty.
Each request has a socket timeout, so a hang fails the test instead of stalling it.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventflow import DurableContext, durable_execution
from eventflow.local import LocalService, VirtualClock
from eventflow.local.http import LocalHttpServer

from .conftest import examples

STATS = {"requests": 0, "2xx": 0, "4xx": 0}


@durable_execution
def waits_for_a_callback(event: Any, ctx: DurableContext) -> Any:
    callback = ctx.create_callback("approval", timeout=3600)
    return callback.result()


class Target:
    def __init__(self, server: LocalHttpServer, arn: str, callback_id: str) -> None:
        self.server, self.arn, self.callback_id = server, arn, callback_id


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    service = LocalService(VirtualClock())
    service.register("fn", waits_for_a_callback)
    execution = service.start_execution("fn", {"x": 1})
    service.run(execution.arn)
    (callback_id,) = [
        op.callback_details.callback_id for op in execution.operations.values() if op.callback_details
    ]
    with LocalHttpServer(service) as server:
        yield Target(server, execution.arn, callback_id or "")


def mangle(draw: st.DrawFn, value: str) -> str:
    kind = draw(st.sampled_from(["keep", "keep", "keep", "cut", "append", "other", "empty"]))
    if kind == "cut":
        return value[: draw(st.integers(0, max(0, len(value) - 1)))]
    if kind == "append":
        return value + draw(st.text(min_size=1, max_size=8))
    if kind == "other":
        return draw(st.text(max_size=40))
    return "" if kind == "empty" else value


@st.composite
def requests(draw: st.DrawFn, arn: str, callback_id: str) -> tuple[str, str, bytes, dict[str, str]]:
    arn_part = quote(mangle(draw, arn), safe="")
    cb_part = quote(mangle(draw, callback_id), safe="")
    name = quote(draw(st.sampled_from(["fn", "unknown", "", "a/b", "%", "fn" * 40])), safe="")
    route_method, path = draw(
        st.sampled_from(
            [
                ("POST", f"/2025-12-01/durable-executions/{arn_part}/checkpoint"),
                ("GET", f"/2025-12-01/durable-executions/{arn_part}/state"),
                ("GET", f"/2025-12-01/durable-executions/{arn_part}/history"),
                ("POST", f"/2025-12-01/durable-executions/{arn_part}/stop"),
                ("GET", f"/2025-12-01/durable-executions/{arn_part}"),
                ("GET", f"/2025-12-01/functions/{name}/durable-executions"),
                ("POST", f"/2025-12-01/durable-execution-callbacks/{cb_part}/succeed"),
                ("POST", f"/2025-12-01/durable-execution-callbacks/{cb_part}/fail"),
                ("POST", f"/2025-12-01/durable-execution-callbacks/{cb_part}/heartbeat"),
                ("POST", f"/2015-03-31/functions/{name}/invocations"),
                ("GET", "/" + quote(draw(st.text(max_size=30)), safe="/")),
            ]
        )
    )
    query = draw(
        st.sampled_from(
            ["", "", "?MaxItems=abc", "?MaxItems=-1", "?Marker=zz&MaxItems=1", "?ReverseOrder=maybe"]
        )
    )
    method = draw(st.sampled_from([route_method, route_method, route_method, "GET", "POST", "PUT", "DELETE"]))
    json_body = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=15), inner, max_size=4),
        max_leaves=8,
    )
    body = draw(
        st.one_of(
            json_body.map(lambda value: json.dumps(value).encode()),
            st.binary(max_size=64),
            st.just(b""),
            st.just(json.dumps({"CheckpointToken": "t", "Updates": [{"Id": 1, "Action": "NOPE"}]}).encode()),
            st.just(json.dumps({"Error": {"ErrorMessage": 3}}).encode()),
        )
    )
    headers = draw(
        st.sampled_from(
            [
                {},
                {"X-Amz-Invocation-Type": "Event"},
                {"X-Amz-Invocation-Type": "Bogus"},
                {"X-Amz-Durable-Execution-Name": "x" * 300},
            ]
        )
    )
    return method, path + query, body, headers


def send(target: Target, method: str, path: str, body: bytes, headers: dict[str, str]) -> int:
    host, port = target.server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@settings(max_examples=examples(300), deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_requests_get_2xx_or_4xx_never_5xx(target: Target, data: st.DataObject) -> None:
    method, path, body, headers = data.draw(requests(target.arn, target.callback_id))
    status = send(target, method, path, body, headers)
    STATS["requests"] += 1
    assert 200 <= status < 500, (status, method, path, body[:80], headers)
    STATS["2xx" if status < 300 else "4xx"] += 1
