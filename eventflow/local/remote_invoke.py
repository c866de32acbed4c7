"""`RemoteInvokeRuntime`: a function behind a Lambda Invoke endpoint somewhere else.

SAM's ``start-lambda`` and the Runtime Interface Emulator run a function (in a container, in any language)
and expose Lambda's Invoke API, ``POST /2015-03-31/functions/NAME/invocations``. eventflow invokes it with
the durable invocation input and reads the answer as Lambda returns it: 200 with the output, or 200 with
``X-Amz-Function-Error`` and ``{"errorType", "errorMessage"}`` for a function error. The function there
must itself be pointed back at this service (``AWS_ENDPOINT_URL_LAMBDA``) to checkpoint.

A connection that fails, or closes before answering, is the sandbox dying (``Runtime.ExitError``); no
answer within the invocation timeout is ``Sandbox.Timedout``.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import quote, urlsplit

from eventflow.errors import InvalidInputError
from eventflow.local.functions import LAMBDA_TIME_LIMIT, InvocationTimedOut, LambdaContext
from eventflow.local.runtime import FunctionError, RuntimeExited
from eventflow.local.runtime_api import error_from_body


class RemoteInvokeRuntime:
    """A `runtime.Runtime` that invokes ``function_name`` at ``url`` (``http://HOST:PORT``)."""

    in_process = False

    def __init__(self, function_name: str, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInputError(f"function {function_name!r}: expected http://HOST:PORT, got {url!r}")
        self.function_name = function_name
        self.url = url
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._path = f"{parts.path.rstrip('/')}/2015-03-31/functions/{quote(function_name)}/invocations"

    def invoke(self, event: Any, context: LambdaContext, timeout_seconds: float | None) -> Any:
        limit = timeout_seconds if timeout_seconds is not None else LAMBDA_TIME_LIMIT.total_seconds()
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = kind(self._netloc, timeout=limit)
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", "X-Amz-Invocation-Type": "RequestResponse"}
        try:
            connection.request("POST", self._path, body, headers)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError:
            raise InvocationTimedOut(limit) from None
        except (OSError, http.client.HTTPException) as exc:
            raise RuntimeExited(context.aws_request_id, f"the Invoke endpoint failed: {exc}") from None
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeExited(
                context.aws_request_id,
                f"the Invoke endpoint answered {response.status}: {data[:200].decode(errors='replace')}",
            )
        function_error = response.getheader("X-Amz-Function-Error")
        if function_error:
            error = error_from_body(data, function_error)
            if error.error_type == "Sandbox.Timedout" or "Task timed out" in (error.error_message or ""):
                raise InvocationTimedOut(limit)
            raise FunctionError(error)
        try:
            return json.loads(data) if data.strip() else None
        except ValueError:
            return data.decode(errors="replace")

    def close(self) -> None:
        return None

