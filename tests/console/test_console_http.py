"""The console's routes over a real socket, without a browser: pages and assets, the Host and CSRF guards,
actions through the API's own routes, long polls, downloads, and bad input answered with 4xx."""

from __future__ import annotations

import http.client
import json
import re
import threading
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from eventflow.events.enums import ExecutionStatus
from eventflow.local.console import actions
from eventflow.local.http import LocalHttpServer
from eventflow.testing.histories import loads_record

from .flows import open_callback

ROOT = Path(__file__).resolve().parents[2]


def call(
    server: LocalHttpServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    connection = http.client.HTTPConnection(host or "127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def token_of(server: LocalHttpServer) -> str:
    _, _, page = call(server, "GET", "/")
    match = re.search(rb'name="csrf-token" content="([^"]+)"', page)
    assert match is not None
    return match.group(1).decode()


def act(server: LocalHttpServer, name: str, payload: Any, **headers: str) -> tuple[int, dict[str, str], Any]:
    sent = {"Content-Type": "application/json", "X-Eventflow-Csrf": token_of(server), **headers}
    status, got, body = call(
        server, "POST", f"/console/api/actions/{name}", json.dumps(payload).encode(), sent
    )
    return status, got, json.loads(body) if body else None


def enc(arn: str) -> str:
    return quote(arn, safe="")


def test_the_page_is_served_at_the_root_with_a_strict_policy(server: LocalHttpServer) -> None:
    status, headers, body = call(server, "GET", "/")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert b"{{CSRF}}" not in body and b'src="/console/static/console.js"' in body
    for asset, kind in (("console.js", "text/javascript"), ("console.css", "text/css")):
        status, headers, body = call(server, "GET", f"/console/static/{asset}")
        assert (status, headers["content-type"].split(";")[0]) == (200, kind)
        assert body


def test_the_static_assets_are_package_data() -> None:
    """Every file the console serves is matched by the package-data globs, so it ships in the wheel."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    static = ROOT / "eventflow" / "local" / "console" / "static"
    files = [path.relative_to(ROOT / "eventflow").as_posix() for path in static.iterdir()]
    assert {"local/console/static/index.html", "local/console/static/console.js"} <= set(files)
    for name in files:
        assert any(fnmatch(name, pattern) for pattern in patterns["eventflow"]), name


def test_the_api_is_still_served_behind_the_console(server: LocalHttpServer) -> None:
    execution = server.service.start_execution("approve", {"order": 1})
    status, _, body = call(server, "GET", f"/2025-12-01/durable-executions/{enc(execution.arn)}")
    assert status == 200 and json.loads(body)["DurableExecutionArn"] == execution.arn
    status, headers, _ = call(server, "GET", "/no/such/route")
    assert (status, headers["x-amzn-errortype"]) == (404, "ResourceNotFoundException")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:9000", "127.0.0.1.evil.example", ""])
def test_a_host_name_that_is_not_local_is_refused(server: LocalHttpServer, host: str) -> None:
    """A DNS-rebinding page reaches the server under its own name: the console does not answer it."""
    status, headers, body = call(server, "GET", "/console/api/executions", headers={"Host": host})
    assert (status, headers["x-amzn-errortype"]) == (403, "ForbiddenException")
    assert "Host" in json.loads(body)["message"]


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:9000", "app.localhost", "127.0.0.1:80", "[::1]:9000"]
)
def test_local_host_names_and_ip_literals_are_served(server: LocalHttpServer, host: str) -> None:
    status, _, _ = call(server, "GET", "/console/api/executions", headers={"Host": host})
    assert status == 200


def test_an_action_needs_the_pages_token(server: LocalHttpServer) -> None:
    body = json.dumps({"target": "x"}).encode()
    for token in (None, "wrong"):
        headers = {"Content-Type": "application/json"} | ({"X-Eventflow-Csrf": token} if token else {})
        status, got, raw = call(server, "POST", "/console/api/actions/callback-heartbeat", body, headers)
        assert (status, got["x-amzn-errortype"]) == (403, "ForbiddenException")
        assert "token" in json.loads(raw)["message"]


def test_an_action_from_another_origin_or_not_json_is_refused(server: LocalHttpServer) -> None:
    status, got, body = act(server, "callback-heartbeat", {"target": "x"}, Origin="http://evil.example")
    assert (status, got["x-amzn-errortype"]) == (403, "ForbiddenException")
    assert "origin" in body["message"]
    sent = {"Content-Type": "text/plain", "X-Eventflow-Csrf": token_of(server)}
    status, _, _ = call(server, "POST", "/console/api/actions/callback-heartbeat", b'{"target": "x"}', sent)
    assert status == 400


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({}, 400),
        ({"target": ""}, 400),
        ({"target": 5}, 400),
        ({"target": "cb", "fields": []}, 400),
        ({"target": "cb", "fields": {"result": "{not json"}}, 400),
        ({"target": "cb", "fields": {"result": 5}}, 400),
        ({"target": "no-such-callback", "fields": {"result": "1"}}, 404),  # the API's own answer
    ],
)
def test_bad_actions_get_a_4xx_in_the_error_shape(server: LocalHttpServer, payload: Any, status: int) -> None:
    got_status, headers, body = act(server, "callback-succeed", payload)
    assert got_status == status
    assert headers["x-amzn-errortype"] and body["message"]


def test_an_unknown_action_and_wrong_methods(server: LocalHttpServer) -> None:
    assert act(server, "explode", {"target": "x"})[0] == 404
    assert call(server, "GET", "/console/api/actions/stop")[0] == 405
    status, headers, _ = call(server, "POST", "/console/api/executions", b"{}")
    assert (status, headers["allow"]) == (405, "GET, HEAD")


def test_answering_a_callback_goes_through_the_api(server: LocalHttpServer) -> None:
    service = server.service
    execution = service.start_execution("approve", {"order": 2})
    callback_id = open_callback(service, execution.arn)
    status, _, _ = act(server, "callback-heartbeat", {"target": callback_id})
    assert status == 200
    status, _, _ = act(server, "callback-succeed", {"target": callback_id, "fields": {"result": '{"n": 1}'}})
    assert status == 200
    done = service.wait_for(execution.arn, 30)
    assert done.status is ExecutionStatus.SUCCEEDED
    assert json.loads(json.loads(done.result or "")["answer"]) == {"n": 1}
    # Answering twice is refused by the API, and the refusal reaches the page as it is.
    status, headers, body = act(
        server, "callback-succeed", {"target": callback_id, "fields": {"result": "1"}}
    )
    assert headers["x-amzn-errortype"]
    assert status >= 400 and status < 500 and body["message"]


def test_failing_a_callback_and_stopping(server: LocalHttpServer) -> None:
    service = server.service
    failing = service.start_execution("approve", {"order": 3})
    callback_id = open_callback(service, failing.arn)
    fields = {"errorType": "Rejected", "errorMessage": "no stock"}
    assert act(server, "callback-fail", {"target": callback_id, "fields": fields})[0] == 200
    assert service.wait_for(failing.arn, 30).status is ExecutionStatus.FAILED
    stopping = service.start_execution("approve", {"order": 4})
    open_callback(service, stopping.arn)
    assert act(server, "stop", {"target": stopping.arn, "fields": {"errorMessage": "enough"}})[0] == 200
    stopped = service.wait_for(stopping.arn, 30)
    assert stopped.status is ExecutionStatus.STOPPED
    assert stopped.error is not None and stopped.error.error_message == "enough"


def test_pause_and_resume_are_offered_where_they_apply_and_go_through_the_api(
    server: LocalHttpServer,
) -> None:
    """The API serves PauseDurableExecution and ResumeDurableExecution: the console offers each where the
    execution's status allows it, and acting sends the API's own request."""
    api = server.api
    assert [a.name for a in actions.offered("execution", "RUNNING", api)] == ["pause", "stop"]
    assert [a.name for a in actions.offered("execution", "PAUSED", api)] == ["resume", "stop"]
    service = server.service
    waiting = service.start_execution("approve", {"order": 5})
    open_callback(service, waiting.arn)
    assert act(server, "pause", {"target": waiting.arn, "fields": {"reason": "audit"}})[0] == 202
    assert service.get(waiting.arn).status in (ExecutionStatus.PAUSING, ExecutionStatus.PAUSED)
    assert act(server, "resume", {"target": waiting.arn, "fields": {"reason": "done"}})[0] == 202
    assert service.get(waiting.arn).status is ExecutionStatus.RUNNING
    status, _, body = act(server, "resume", {"target": waiting.arn, "fields": {}})
    assert status == 409 and body["message"]  # not paused: the API's ResourceConflictException


def test_the_list_pages_newest_first_and_filters(server: LocalHttpServer) -> None:
    service = server.service
    arns = [service.start_execution("approve", {"order": n}).arn for n in range(3)]
    status, _, body = call(server, "GET", "/console/api/executions?limit=2&function=approve")
    first = json.loads(body)
    assert status == 200 and [row["arn"] for row in first["executions"]] == arns[::-1][:2]
    assert first["functions"] == ["approve", "fan_out", "flaky"]
    _, _, body = call(
        server, "GET", f"/console/api/executions?limit=2&function=approve&marker={first['next']}"
    )
    assert [row["arn"] for row in json.loads(body)["executions"]] == arns[:1]
    _, _, body = call(server, "GET", "/console/api/executions?status=SUCCEEDED,FAILED")
    assert json.loads(body)["executions"] == []


@pytest.mark.parametrize(
    "query", ["limit=abc", "limit=0", "limit=1000", "status=NOPE", "marker=xyz", "wait=-1", "wait=soon"]
)
def test_bad_list_queries_are_400(server: LocalHttpServer, query: str) -> None:
    status, headers, _ = call(server, "GET", f"/console/api/executions?{query}")
    assert (status, headers["x-amzn-errortype"]) == (400, "InvalidParameterValueException")


def test_unknown_things_are_404(server: LocalHttpServer) -> None:
    for path in (
        "/console/api/executions/no-such-arn",
        "/console/api/executions/no-such-arn/history.json",
        "/console/machines/NOPE.svg",
        "/console/static/secrets.py",
        "/console/static/..%2F..%2Fapp.py",
        "/console/nothing",
    ):
        status, headers, _ = call(server, "GET", path)
        assert status == 404, path
        assert headers["x-amzn-errortype"], path


def test_the_events_of_one_operation(server: LocalHttpServer) -> None:
    service = server.service
    execution = service.start_execution("approve", {"order": 5})
    open_callback(service, execution.arn)
    base = f"/console/api/executions/{enc(execution.arn)}"
    detail = json.loads(call(server, "GET", base)[2])
    labels = {row["label"]: row for row in detail["operations"]}
    assert list(labels) == ["execution", "root/1", "root/2", "root/2/1", "root/2/2"]
    assert labels["root/2/1"]["callback"] and labels["root/2"]["kind"] == "wait_for_callback"
    assert [a["name"] for a in detail["callbackActions"]] == [
        "callback-succeed",
        "callback-fail",
        "callback-heartbeat",
    ]
    step = json.loads(call(server, "GET", f"{base}/events?op={labels['root/1']['id']}")[2])
    assert [e["type"] for e in step["events"]] == ["StepStarted", "StepSucceeded"]
    assert json.loads(step["events"][1]["details"]["Result"]["Payload"])["order"] == 5
    top = json.loads(call(server, "GET", f"{base}/events?op={labels['execution']['id']}")[2])
    assert [e["type"] for e in top["events"]][:1] == ["ExecutionStarted"]
    assert "InvocationCompleted" in [e["type"] for e in top["events"]]
    assert call(server, "GET", f"{base}/events")[0] == 400
    assert call(server, "GET", f"{base}/events?op=nope")[0] == 400


def test_the_history_downloads_as_json_that_eventflow_reads_back(server: LocalHttpServer) -> None:
    service = server.service
    execution = service.start_execution("flaky", {})
    service.wait_for(execution.arn, 30)
    status, headers, body = call(server, "GET", f"/console/api/executions/{enc(execution.arn)}/history.json")
    assert status == 200
    assert headers["content-disposition"].startswith('attachment; filename="history-')
    record = loads_record(body.decode())
    assert [e.event_type for e in record.events] == [e.event_type for e in service.history(execution.arn)]


def test_the_state_machine_svg(server: LocalHttpServer) -> None:
    status, headers, body = call(server, "GET", "/console/machines/CALLBACK.svg")
    assert (status, headers["content-type"]) == (200, "image/svg+xml")
    assert b"heartbeat_timed_out" in body and b"TIMED_OUT" in body


def test_a_long_poll_answers_304_when_nothing_changed(server: LocalHttpServer) -> None:
    status, headers, _ = call(server, "GET", "/console/api/executions")
    etag = headers["etag"]
    status, headers, body = call(
        server, "GET", "/console/api/executions?wait=1", headers={"If-None-Match": etag}
    )
    assert (status, headers["etag"], body) == (304, etag, b"")


def test_a_long_poll_answers_as_soon_as_something_changes(server: LocalHttpServer) -> None:
    service = server.service
    _, headers, _ = call(server, "GET", "/console/api/executions")
    etag = headers["etag"]
    answer: dict[str, Any] = {}

    def poll() -> None:
        answer["got"] = call(
            server, "GET", "/console/api/executions?wait=30", headers={"If-None-Match": etag}
        )

    poller = threading.Thread(target=poll)
    poller.start()
    execution = service.start_execution("approve", {"order": 9})
    poller.join(30)
    status, headers, body = answer["got"]
    assert status == 200 and headers["etag"] != etag
    assert execution.arn in [row["arn"] for row in json.loads(body)["executions"]]


def test_an_execution_poll_waits_for_that_execution(server: LocalHttpServer) -> None:
    service = server.service
    execution = service.start_execution("approve", {"order": 10})
    callback_id = open_callback(service, execution.arn)
    path = f"/console/api/executions/{enc(execution.arn)}"
    _, headers, _ = call(server, "GET", path)
    answer: dict[str, Any] = {}

    def poll() -> None:
        answer["got"] = call(server, "GET", f"{path}?wait=30", headers={"If-None-Match": headers["etag"]})

    poller = threading.Thread(target=poll)
    poller.start()
    service.start_execution("flaky", {})  # another execution's changes do not answer this poll
    service.send_callback_success(callback_id, "1")
    poller.join(30)
    status, _, body = answer["got"]
    assert status == 200
    assert json.loads(body)["status"] in {"RUNNING", "SUCCEEDED"}
    assert len(json.loads(body)["operations"]) >= 5
