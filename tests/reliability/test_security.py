"""Security properties as tests: no code-executing deserialisation, unguessable callback ids bound to their
execution, a loopback-only HTTP server that refuses oversized bodies, and no secrets or payloads in logs.
"""

from __future__ import annotations

import ast
import base64
import http.client
import json
import logging
from pathlib import Path
from typing import Any

import pytest

import eventflow
from eventflow import DurableContext
from eventflow.handler import DurableHandler
from eventflow.local import CallbackNotFoundError, LocalService
from eventflow.local.http import MAX_BODY_BYTES, LocalHttpServer

PACKAGE = Path(eventflow.__file__).parent
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "jsonpickle"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_never_imports_a_code_executing_deserialiser_nor_calls_eval() -> None:
    """JSON only: a payload from the service or a callback sender must never be able to run code."""
    findings: list[str] = []
    for path in _sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                names = {node.func.id} & FORBIDDEN_CALLS
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                # yaml.load / yaml.unsafe_load would construct arbitrary objects
                names = (
                    {f"yaml.{node.func.attr}"}
                    if node.func.attr in {"load", "unsafe_load"}
                    and (isinstance(node.func.value, ast.Name) and node.func.value.id == "yaml")
                    else set()
                )
            else:
                continue
            bad = names & (FORBIDDEN_MODULES | FORBIDDEN_CALLS) or {n for n in names if n.startswith("yaml.")}
            if bad:
                findings.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {sorted(bad)}")
    assert len(_sources()) > 50  # the scan sees the package
    assert not findings, findings


def _callback_ids(service: LocalService, n: int) -> tuple[list[str], list[str]]:
    def fn(event: Any, ctx: DurableContext) -> Any:
        return ctx.create_callback("cb", timeout=60).result()

    service.register("cb", DurableHandler(fn, service))
    arns, ids = [], []
    for _ in range(n):
        execution = service.start_execution("cb", {})
        service.run_due()  # the first invocation only: the virtual clock stays before the timeout
        (op,) = [o for o in execution.operations.values() if o.callback_details]
        assert op.callback_details is not None and op.callback_details.callback_id
        arns.append(execution.arn)
        ids.append(op.callback_details.callback_id)
    return arns, ids


def test_callback_ids_carry_at_least_128_random_bits() -> None:
    _, ids = _callback_ids(LocalService(), 300)
    assert len(set(ids)) == len(ids)
    for cid in ids:
        raw = base64.urlsafe_b64decode(cid + "=" * (-len(cid) % 4))
        assert len(raw) * 8 >= 128, cid
    # No shared structure an attacker could enumerate: every position takes many values.
    columns = list(zip(*ids, strict=False))
    assert all(len(set(column)) > 16 for column in columns)


def test_a_callback_id_completes_only_its_own_execution_and_only_once() -> None:
    service = LocalService()
    arns, ids = _callback_ids(service, 2)
    service.send_callback_success(ids[0], '"yes"')
    service.run(arns[0])
    assert str(service.get(arns[0]).status) == "SUCCEEDED"
    assert str(service.get(arns[1]).status) == "RUNNING"  # the other execution is untouched
    with pytest.raises(CallbackNotFoundError):
        service.send_callback_success(ids[0], '"again"')  # answered already
    for forged in (ids[1][:-1] + ("A" if ids[1][-1] != "A" else "B"), ids[1].upper(), "", arns[1]):
        with pytest.raises(CallbackNotFoundError):
            service.send_callback_success(forged, '"forged"')
    assert str(service.get(arns[1]).status) == "RUNNING"


def test_the_http_server_binds_loopback_by_default() -> None:
    server = LocalHttpServer(LocalService())
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_the_http_server_refuses_an_oversized_body_without_reading_it() -> None:
    server = LocalHttpServer(LocalService()).start()
    try:
        host, port = server.server_address[:2]
        conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
        # Announce a body over the limit and send none of it: the server must answer from the header.
        conn.putrequest("POST", "/2025-12-01/durable-execution-callbacks/x/succeed")
        conn.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 413
        assert response.getheader("X-Amzn-ErrorType", "").startswith("RequestTooLarge")
        conn.close()
    finally:
        server.stop()


SECRET = "s3cr3t-Payload-7f1c"
KEY = "AKIAEXAMPLESECRETKEY"


def test_logs_carry_no_payloads_and_no_credentials(caplog: pytest.LogCaptureFixture) -> None:
    """Everything eventflow logs at DEBUG while a workflow moves secrets through every payload."""

    def fn(event: Any, ctx: DurableContext) -> Any:
        value = ctx.step(lambda sc: sc.logger.info("step ran") or event["secret"], name="s")
        ctx.wait(seconds=5)
        cb = ctx.create_callback("cb")  # no timeout: the virtual clock must not expire it
        ctx.logger.info("waiting for the callback")
        return [value, cb.result(), ctx.child_context(lambda c: c.step(lambda _: SECRET, name="t"), name="c")]

    caplog.set_level(logging.DEBUG)
    service = LocalService()
    server = LocalHttpServer(service).start()
    try:
        service.register("fn", DurableHandler(fn, service))
        execution = service.start_execution("fn", {"secret": SECRET, "aws_secret_access_key": KEY})

        def callback_id() -> str | None:
            for op in service.get(execution.arn).operations.values():
                if op.callback_details and op.callback_details.callback_id:
                    return op.callback_details.callback_id
            return None

        with service._cond:  # woken by every change the worker makes; no fixed sleep
            assert service._cond.wait_for(lambda: callback_id() is not None, timeout=10)
        cid = callback_id()
        host, port = server.server_address[:2]
        conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
        conn.request("POST", f"/2025-12-01/durable-execution-callbacks/{cid}/succeed", json.dumps(SECRET))
        assert conn.getresponse().status == 200
        conn.close()
        service.wait_for(execution.arn, timeout=10)
    finally:
        server.stop()
    assert str(execution.status) == "SUCCEEDED", execution.error
    logged = [r for r in caplog.records if r.name.startswith("eventflow")]
    assert logged, "the workflow's own log lines should have been captured"
    for record in logged:
        text = record.getMessage() + repr(getattr(record, "__dict__", {}))
        assert SECRET not in text and KEY not in text, (record.name, text[:300])
