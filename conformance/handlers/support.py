"""Small things several handlers need, written as a user of eventflow would write them."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from eventflow import SerDesContext


class UppercaseSerDes:
    """JSON, with every string upper-cased on the way out (the suite's "custom serdes" example)."""

    def serialize(self, value: Any, context: SerDesContext) -> str:
        return json.dumps(_upper(value))

    def deserialize(self, data: str, context: SerDesContext) -> Any:
        return json.loads(data)


def _upper(value: Any) -> Any:
    if isinstance(value, str):
        return value.upper()
    if isinstance(value, list):
        return [_upper(v) for v in value]
    if isinstance(value, dict):
        return {k: _upper(v) for k, v in value.items()}
    return value


class TransientError(Exception):
    """An error worth retrying (the suite's ``TransientError``)."""


class OnceMarker:
    """Remembers across invocations (and processes) that something happened once, like the DynamoDB table
    the suite's reference handlers use to count attempts. Keyed by a caller-chosen string."""

    def __init__(self, namespace: str) -> None:
        root = Path(
            os.environ.get("EVENTFLOW_CONFORMANCE_STATE", Path(tempfile.gettempdir()) / "eventflow-cf")
        )
        self._dir = root / namespace
        self._dir.mkdir(parents=True, exist_ok=True)

    def first_time(self, key: str) -> bool:
        """True the first time it is asked about ``key``, False after that."""
        try:
            with open(self._dir / key, "x"):
                return True
        except FileExistsError:
            return False
