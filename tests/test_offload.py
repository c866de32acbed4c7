"""`OffloadingSerDes`: values over the checkpoint limit go to a store, the checkpoint keeps a reference
and a preview, replay reads the stored value back, and a store that fails is a typed error.

In process on the local service. S3 is reached through a real boto3 client over HTTP, against a minimal
S3 endpoint on 127.0.0.1 (the AWS network boundary is the only thing replaced).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from eventflow import DurableContext, StepConfig, durable_execution
from eventflow.errors import PayloadStoreError
from eventflow.events.enums import ExecutionStatus
from eventflow.local import LocalService, VirtualClock
from eventflow.offload import (
    MARKER,
    DirectoryStore,
    KeyScheme,
    OffloadingSerDes,
    OffloadMode,
    S3Store,
)
from eventflow.serdes import SerDesContext

BIG = {"rows": ["x" * 1000] * 400}  # ~400 KB: over the service's 256 KiB per payload


class CountingStore:
    """A `PayloadStore` that counts reads, around a real one."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gets = 0
        self.puts = 0

    def put(self, key: str, data: bytes) -> str:
        self.puts += 1
        return str(self.inner.put(key, data))

    def get(self, uri: str) -> bytes:
        self.gets += 1
        return bytes(self.inner.get(uri))


def run_big_step(serdes: OffloadingSerDes) -> tuple[LocalService, str]:
    @durable_execution
    def flow(event: Any, ctx: DurableContext) -> Any:
        value = ctx.step(lambda _: BIG, name="load", config=StepConfig(serdes=serdes))
        ctx.wait(5)  # the second invocation replays the step
        return len(value["rows"])

    service = LocalService(VirtualClock())
    service.register("flow", flow)
    arn = service.start_execution("flow", {}).arn
    service.run(arn)
    return service, arn


def step_payload(service: LocalService, arn: str) -> str:
    execution = service.get(arn)
    op = next(op for op in execution.operations.values() if op.name == "load")
    assert op.step_details is not None and op.step_details.result is not None
    return op.step_details.result


def test_a_large_value_is_offloaded_and_replay_reads_it_back(tmp_path: Path) -> None:
    store = CountingStore(DirectoryStore(tmp_path / "values"))
    service, arn = run_big_step(OffloadingSerDes(store))
    execution = service.get(arn)
    assert execution.status is ExecutionStatus.SUCCEEDED and execution.result == "400"
    assert execution.invocations == 2
    payload = step_payload(service, arn)
    assert len(payload) < 1000  # a reference, not the value
    record = json.loads(payload)
    assert record["preview"].startswith('{"rows":["xxx')
    assert record[MARKER]["bytes"] > 256 * 1024
    assert store.puts == 1
    assert store.gets == 2  # the first run reads back what it wrote, and the replay reads it again
    files = list((tmp_path / "values" / "sha256").iterdir())
    assert len(files) == 1 and json.loads(files[0].read_bytes()) == BIG


def test_small_values_stay_inline_unless_always(tmp_path: Path) -> None:
    serdes = OffloadingSerDes(DirectoryStore(tmp_path))
    context = SerDesContext("op-1", "arn:aws:lambda:us-east-1:0:function:f:$LATEST/durable-execution/n/id-1")
    assert serdes.serialize({"a": 1}, context) == '{"a":1}'
    assert serdes.deserialize('{"a":1}', context) == {"a": 1}
    always = OffloadingSerDes(
        DirectoryStore(tmp_path),
        mode=OffloadMode.ALWAYS,
        keys=KeyScheme.OPERATION,
        preview=lambda value: {"keys": sorted(value)},
    )
    payload = always.serialize({"a": 1, "b": 2}, context)
    record = json.loads(payload)
    assert record["preview"] == {"keys": ["a", "b"]}
    assert record[MARKER]["uri"].endswith("/n/id-1/op-1")
    assert (tmp_path / "n" / "id-1" / "op-1").read_bytes() == b'{"a":1,"b":2}'
    assert always.deserialize(payload, context) == {"a": 1, "b": 2}


def test_a_value_that_looks_like_a_reference_is_offloaded_so_it_reads_back_as_itself(tmp_path: Path) -> None:
    serdes = OffloadingSerDes(DirectoryStore(tmp_path))
    context = SerDesContext("op", "arn")
    tricky = {MARKER: {"uri": "file:///etc/passwd", "sha256": "0" * 64, "bytes": 1}}
    payload = serdes.serialize(tricky, context)
    assert json.loads(payload)[MARKER]["uri"] != "file:///etc/passwd"
    assert serdes.deserialize(payload, context) == tricky


def test_a_lost_or_altered_value_is_a_typed_error_at_replay(tmp_path: Path) -> None:
    directory = tmp_path / "values"
    serdes = OffloadingSerDes(DirectoryStore(directory))
    context = SerDesContext("op", "arn")
    payload = serdes.serialize(BIG, context)
    stored = next((directory / "sha256").iterdir())
    stored.write_bytes(stored.read_bytes().replace(b"x", b"y", 1))
    with pytest.raises(PayloadStoreError, match="not the one checkpointed"):
        serdes.deserialize(payload, context)
    stored.unlink()
    with pytest.raises(PayloadStoreError, match="cannot read"):
        serdes.deserialize(payload, context)
    outside = payload.replace(directory.resolve().as_uri(), (tmp_path / "elsewhere").as_uri())
    with pytest.raises(PayloadStoreError, match="outside"):
        serdes.deserialize(outside, context)


def test_an_unreachable_store_fails_the_operation_with_a_typed_error(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the store's directory should be")
    service, arn = run_big_step(OffloadingSerDes(DirectoryStore(blocked)))
    execution = service.get(arn)
    assert execution.status is ExecutionStatus.FAILED
    assert execution.error is not None and execution.error.error_type == "eventflow.errors.PayloadStoreError"
    assert "cannot write" in (execution.error.error_message or "")


# -- S3, through boto3 -------------------------------------------------------------------------------------


class _S3(BaseHTTPRequestHandler):
    """PutObject and GetObject, path-style, as the S3 REST API answers them."""

    protocol_version = "HTTP/1.1"
    objects: dict[str, bytes]

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.objects[self.path.split("?")[0]] = self.rfile.read(length)
        self._answer(200, b"", {"ETag": '"0"'})

    def do_GET(self) -> None:
        data = self.objects.get(self.path.split("?")[0])
        if data is None:
            body = (
                b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
            )
            self._answer(404, body, {"Content-Type": "application/xml"})
        else:
            self._answer(200, data, {"Content-Type": "application/octet-stream"})

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def s3_endpoint() -> Iterator[tuple[str, dict[str, bytes]]]:
    objects: dict[str, bytes] = {}
    handler = type("S3", (_S3,), {"objects": objects})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", objects
    finally:
        server.shutdown()
        server.server_close()


def s3_client(url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def test_s3_store_through_boto3(s3_endpoint: tuple[str, dict[str, bytes]]) -> None:
    url, objects = s3_endpoint
    store = S3Store("payloads", "flows/", client=s3_client(url))
    service, arn = run_big_step(OffloadingSerDes(store))
    assert service.get(arn).status is ExecutionStatus.SUCCEEDED
    record = json.loads(step_payload(service, arn))
    assert record[MARKER]["uri"].startswith("s3://payloads/flows/sha256/")
    assert [json.loads(data) for data in objects.values()] == [BIG]
    objects.clear()  # the bucket lost it
    with pytest.raises(PayloadStoreError, match="NoSuchKey"):
        OffloadingSerDes(store).deserialize(step_payload(service, arn), SerDesContext("op", arn))


def test_an_unreachable_s3_is_a_typed_error() -> None:
    store = S3Store("payloads", client=s3_client("http://127.0.0.1:9"))  # nothing listens on port 9
    with pytest.raises(PayloadStoreError, match="cannot write s3://payloads/"):
        OffloadingSerDes(store, mode=OffloadMode.ALWAYS).serialize(1, SerDesContext("op", "arn"))


def test_importing_the_module_imports_no_boto3() -> None:
    import subprocess
    import sys

    code = "import sys, eventflow.offload; sys.exit('boto3' in sys.modules or 'botocore' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
