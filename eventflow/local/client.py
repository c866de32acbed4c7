"""A boto3 ``lambda`` client for a local service's HTTP endpoint, as users (and eventflow's CLI) make one.

The local service checks no credentials, so dummy ones do; the region is ``AWS_REGION`` or us-east-1. No
retries by default: the CLI and tests want the service's first answer, not botocore's retry of it. boto3 is
imported on first use, so `import eventflow.local` stays free of it.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["lambda_client"]


def lambda_client(endpoint: str, *, max_attempts: int = 1, read_timeout: float = 60) -> Any:
    """A ``lambda`` client that talks to ``endpoint`` (e.g. ``http://127.0.0.1:9000``); ``read_timeout``
    bounds one answer (a RequestResponse Invoke waits for the execution's end)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id="eventflow",
        aws_secret_access_key="eventflow",
        config=Config(retries={"max_attempts": max_attempts}, read_timeout=read_timeout),
    )
