"""Fuzzed requests to the local service's HTTP API: every answer is a 2xx or a 4xx, never a 5xx or a hang,
and every 4xx carries the service's error shape.

Requests are built around the real routes (so they reach the handlers, not only the router): a real
execution's ARN and a real callback id, mangled or not, unknown ones, every method, query strings with
wrong types, and bodies that are valid JSON of the wrong shape, invalid JSON, binary noise or empty.
A second property writes raw bytes on the socket, past what http.client would send: any method token,
HTTP/0.9 and unknown versions, over-long lines and headers, bad or lying Content-Lengths, deeply nested
JSON, huge integers. Each request has a socket timeout, so a hang is counted instead of stalling the test.
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
from eventflow.local.http_server import Limits

from .conftest import examples
from .http_wire import exchange

STATS = {"requests": 0, "2xx": 0, "4xx": 0, "5xx": 0, "hangs": 0, "closed": 0, "no_error_shape": 0}
LIMITS = Limits(read_timeout=0.3, idle_timeout=5.0, max_request_line=4096, max_header_bytes=8192)


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
    with LocalHttpServer(service, limits=LIMITS) as server:
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


def send(target: Target, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bool]:
    """(status, whether an error answer carries the error shape)."""
    host, port = target.server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        data = response.read()
        shaped = bool(response.getheader("X-Amzn-ErrorType")) and b'"message"' in data
        return response.status, response.status < 300 or shaped
    finally:
        connection.close()


def count(status: int | None, outcome: str, shaped: bool) -> None:
    STATS["requests"] += 1
    if outcome == "hang":
        STATS["hangs"] += 1
    elif status is None:
        STATS["closed"] += 1  # no answer at all
    else:
        STATS[f"{status // 100}xx"] = STATS.get(f"{status // 100}xx", 0) + 1
        if status >= 300 and not shaped:
            STATS["no_error_shape"] += 1


@settings(max_examples=examples(300), deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_requests_get_2xx_or_4xx_never_5xx(target: Target, data: st.DataObject) -> None:
    method, path, body, headers = data.draw(requests(target.arn, target.callback_id))
    status, shaped = send(target, method, path, body, headers)
    count(status, "response", shaped)
    assert 200 <= status < 500, (status, method, path, body[:80], headers)
    assert shaped, (status, method, path, body[:80], headers)


def deep_json(depth: int) -> bytes:
    return b'{"CheckpointToken": "t", "Updates": ' + b"[" * depth + b"]" * depth + b"}"


@st.composite
def raw_requests(draw: st.DrawFn, arn: str, callback_id: str) -> tuple[bytes, str, bool]:
    """(bytes to send, the method, whether the request is complete: a lying Content-Length is not)."""
    _, path, body, headers = draw(requests(arn, callback_id))
    method = draw(
        st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "PATCH", "PUT", "DELETE", "TRACE", "BREW", "G@T"])
    )
    path = draw(
        st.sampled_from(
            [
                path,
                path,
                path,
                "/2025-12-01/functions/fn/durable-executions?StartedAfter=100000000000000000000",
                "/2025-12-01/functions/fn/durable-executions?StartedBefore=-99999999999999999999",
                "/2025-12-01/functions/fn/durable-executions?MaxItems=100000000000000000000000",
                "/" + "a" * 5000,
                "*",
                "http://host/x",
            ]
        )
    )
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "", "HTTP/2.0", "HTTP/1.1 x", "FOO"]))
    body = draw(
        st.sampled_from(
            [
                body,
                body,
                deep_json(draw(st.integers(100, 100_000))),
                b'{"CheckpointToken": "t", "Updates": [{"Id": "a", "Type": "STEP", "Action": "START", '
                b'"StepOptions": {"NextAttemptDelaySeconds": 100000000000000000000}}]}',
                b'{"ErrorMessage": ' + b"9" * 5000 + b"}",
            ]
        )
    )
    complete = draw(st.integers(0, 19)) != 0
    length = draw(st.sampled_from([str(len(body))] * 6 + ["-1", "abc", "1, 2", None]))
    if not complete:
        length = str(len(body) + draw(st.integers(1, 100)))
    lines = [f"{method} {path} {version}".rstrip(" ").encode("latin-1")]
    lines.append(b"Host: localhost")
    if length is not None:
        lines.append(f"Content-Length: {length}".encode())
    lines += [f"{key}: {value}".encode("latin-1") for key, value in headers.items()]
    lines += draw(
        st.lists(
            st.sampled_from(
                [
                    b"X-Long: " + b"a" * 9000,
                    b" folded",
                    b"no-colon",
                    b"Transfer-Encoding: chunked",
                    b"Expect: 100-continue",
                    b"Connection: close",
                    b"X-Bytes: \xff\xfe",
                ]
            ),
            max_size=2,
        )
    )
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    return eol.join(lines) + eol + eol + body, method, complete


@settings(max_examples=examples(200), deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_raw_bytes_get_4xx_in_the_error_shape_never_5xx_or_a_hang(
    target: Target, data: st.DataObject
) -> None:
    raw, method, complete = data.draw(raw_requests(target.arn, target.callback_id))
    answer = exchange(target.server.server_address, raw, timeout=10, head=method == "HEAD")
    head_ok = method == "HEAD" and answer.has_error_shape(head=True)
    count(answer.status, answer.outcome, answer.has_error_shape() or head_ok)
    assert answer.outcome == "response" and answer.status is not None, (answer, raw[:200], complete)
    assert 200 <= answer.status < 500, (answer, raw[:200])
    assert answer.status < 300 or answer.has_error_shape() or head_ok, (answer, raw[:200])


def test_the_fuzz_found_no_5xx_hang_or_unshaped_error() -> None:
    """Runs after the properties (same module, in order): the totals the report prints."""
    assert STATS["requests"] > 0
    assert STATS["5xx"] == STATS["hangs"] == STATS["closed"] == STATS["no_error_shape"] == 0, STATS
