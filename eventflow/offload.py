"""Offloading values over the checkpoint limit: the value goes to a store, the checkpoint keeps a reference.

The service takes at most 256 KiB per operation payload. `OffloadingSerDes` wraps another serdes (JSON by
default): a value whose serialization is over ``threshold_bytes`` (``mode=OVERFLOW``, the default), or
every value (``mode=ALWAYS``), is written to a `PayloadStore` and the checkpoint carries a small reference
record instead::

    {"$offloaded": {"uri": "s3://bucket/key", "sha256": "...", "bytes": 1048576}, "preview": "..."}

``preview`` keeps something readable in the history for an audit: by default the first characters of the
serialized value, or whatever ``preview(value)`` returns (any JSON value, at most 4 KiB). Values under the
threshold are checkpointed as the wrapped serdes writes them, so they read as plain JSON in the history.

On replay the reference is read back from the store and its SHA-256 checked: a store that cannot be
reached, refuses, lost the value or holds different bytes raises `PayloadStoreError` (a `SerDesError`, so
the operation fails with a typed error) and never hands back a missing or wrong value.

Where values go (``keys``): ``CONTENT_HASH`` (``sha256/<digest>``: equal values are stored once) or
``OPERATION`` (``<execution name>/<execution id>/<operation id>``: easy to find, and to delete with the
execution). Stores: `DirectoryStore` (files, written atomically) and `S3Store` (boto3, imported only when
the store is first used, so importing this module costs nothing).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit

from eventflow.errors import InvalidInputError, PayloadStoreError, SerDesError
from eventflow.serdes import DEFAULT_SERDES, SerDes, SerDesContext

MARKER = "$offloaded"
"""The key that makes a checkpointed payload a reference to an offloaded value."""

DEFAULT_THRESHOLD_BYTES = 250_000
"""Offload values whose serialization is over this (the service's limit is 256 KiB per payload)."""

PREVIEW_CHARS = 200
MAX_PREVIEW_BYTES = 4096


class OffloadMode(StrEnum):
    OVERFLOW = "OVERFLOW"  # only values over the threshold
    ALWAYS = "ALWAYS"  # every value


class KeyScheme(StrEnum):
    CONTENT_HASH = "CONTENT_HASH"
    OPERATION = "OPERATION"


class PayloadStore(Protocol):
    """Where offloaded values live. Both calls raise `PayloadStoreError` on any failure."""

    def put(self, key: str, data: bytes) -> str:
        """Store ``data`` under ``key``; returns the URI a later `get` takes."""
        ...

    def get(self, uri: str) -> bytes:
        """The bytes stored at ``uri``."""
        ...


class DirectoryStore:
    """Files under one directory (a shared volume, a test's tmp_path). Written to a temporary file and
    renamed, so a reader never sees half a value."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def put(self, key: str, data: bytes) -> str:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".offload-")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise PayloadStoreError(f"cannot write the offloaded value to {path}: {exc}") from exc
        return path.as_uri()

    def get(self, uri: str) -> bytes:
        parts = urlsplit(uri)
        if parts.scheme != "file":
            raise PayloadStoreError(f"a DirectoryStore cannot read {uri!r}")
        path = Path(unquote(parts.path))
        if not path.is_relative_to(self.root):
            raise PayloadStoreError(f"{uri!r} is outside the store's directory {self.root}")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise PayloadStoreError(f"cannot read the offloaded value at {path}: {exc}") from exc

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidInputError(f"offload key {key!r} leaves the store's directory")
        return path


class S3Store:
    """Objects in an S3 bucket, under ``prefix``. ``client`` is a boto3 S3 client; without one, boto3 is
    imported and a default client built on first use."""

    def __init__(self, bucket: str, prefix: str = "", *, client: Any = None) -> None:
        if not bucket:
            raise InvalidInputError("S3Store needs a bucket")
        self.bucket = bucket
        self.prefix = prefix
        self._client = client

    def _s3(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def put(self, key: str, data: bytes) -> str:
        full = self.prefix + key
        try:
            self._s3().put_object(Bucket=self.bucket, Key=full, Body=data)
        except Exception as exc:  # botocore's ClientError, EndpointConnectionError, NoCredentialsError...
            raise PayloadStoreError(f"cannot write s3://{self.bucket}/{full}: {exc}") from exc
        return f"s3://{self.bucket}/{quote(full)}"

    def get(self, uri: str) -> bytes:
        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.netloc:
            raise PayloadStoreError(f"an S3Store cannot read {uri!r}")
        key = unquote(parts.path.lstrip("/"))
        try:
            body = self._s3().get_object(Bucket=parts.netloc, Key=key)["Body"]
            data: bytes = body.read()
        except Exception as exc:
            raise PayloadStoreError(f"cannot read {uri}: {exc}") from exc
        return data


class OffloadingSerDes:
    """A serdes that moves large (or all) values to a `PayloadStore` (see the module docstring)."""

    def __init__(
        self,
        store: PayloadStore,
        *,
        inner: SerDes = DEFAULT_SERDES,
        mode: OffloadMode = OffloadMode.OVERFLOW,
        threshold_bytes: int = DEFAULT_THRESHOLD_BYTES,
        keys: KeyScheme = KeyScheme.CONTENT_HASH,
        preview: Callable[[Any], Any] | None = None,
    ) -> None:
        if threshold_bytes < 0:
            raise InvalidInputError(f"threshold_bytes must not be negative, got {threshold_bytes}")
        self.store = store
        self.inner = inner
        self.mode = OffloadMode(mode)
        self.threshold_bytes = threshold_bytes
        self.keys = KeyScheme(keys)
        self.preview = preview

    def serialize(self, value: Any, context: SerDesContext) -> str:
        data = self.inner.serialize(value, context)
        encoded = data.encode()
        inline = self.mode is OffloadMode.OVERFLOW and len(encoded) <= self.threshold_bytes
        # Inline, as the wrapped serdes writes it; unless it would read back as a reference: offloaded,
        # it reads back as itself.
        if inline and (MARKER not in data or _reference(data) is None):
            return data
        digest = hashlib.sha256(encoded).hexdigest()
        uri = self.store.put(self._key(digest, context), encoded)
        record: dict[str, Any] = {MARKER: {"uri": uri, "sha256": digest, "bytes": len(encoded)}}
        shown = self._preview(value, data)
        if shown is not None:
            record["preview"] = shown
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False)

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        reference = _reference(data) if MARKER in data else None
        if reference is None:
            return self.inner.deserialize(data, context)
        uri, digest, size = reference
        stored = self.store.get(uri)
        if len(stored) != size or hashlib.sha256(stored).hexdigest() != digest:
            raise PayloadStoreError(
                f"the offloaded value of operation {context.operation_id!r} at {uri} is not the one "
                f"checkpointed ({len(stored)} bytes, expected {size} with SHA-256 {digest[:12]}...)"
            )
        return self.inner.deserialize(stored.decode(), context)

    def _key(self, digest: str, context: SerDesContext) -> str:
        if self.keys is KeyScheme.CONTENT_HASH:
            return f"sha256/{digest}"
        execution = context.execution_arn.rsplit("/", 2)[-2:] if context.execution_arn else ["local"]
        segments = [*execution, context.operation_id or digest]
        return "/".join(quote(segment, safe="") for segment in segments)

    def _preview(self, value: Any, data: str) -> Any:
        if self.preview is None:
            return data[:PREVIEW_CHARS]
        try:
            shown = self.preview(value)
            text = json.dumps(shown, separators=(",", ":"), ensure_ascii=False)
        except Exception as exc:
            raise SerDesError(f"the offload preview failed: {exc}") from exc
        if len(text.encode()) > MAX_PREVIEW_BYTES:
            raise SerDesError(f"the offload preview is over {MAX_PREVIEW_BYTES} bytes")
        return shown


def _reference(data: str) -> tuple[str, str, int] | None:
    """(uri, sha256, size) if ``data`` is a reference record, else None."""
    try:
        record = json.loads(data)
    except ValueError:
        return None
    if not isinstance(record, dict) or set(record) - {MARKER, "preview"} or MARKER not in record:
        return None
    target = record[MARKER]
    if not isinstance(target, dict):
        return None
    uri, digest, size = target.get("uri"), target.get("sha256"), target.get("bytes")
    if not isinstance(uri, str) or not isinstance(digest, str) or type(size) is not int:
        return None
    return uri, digest, size


__all__ = [
    "DirectoryStore",
    "KeyScheme",
    "OffloadMode",
    "OffloadingSerDes",
    "PayloadStore",
    "PayloadStoreError",
    "S3Store",
]
