"""The local service over HTTP, on the same REST routes as botocore's ``lambda`` client (API 2025-12-01).

So any client can run against it unchanged: ``boto3.client("lambda", endpoint_url=server.url)``, eventflow's
`LambdaBackend`, or another SDK pointed at it with ``AWS_ENDPOINT_URL_LAMBDA``. Requests are not
authenticated (any credentials are accepted); the server binds to loopback unless told otherwise.

`LocalHttpServer` is a hardened `http_server.HttpServer` (one write per response, TCP_NODELAY, read and idle
timeouts, a bound on connection threads, every refusal in the error shape below) plus one worker thread
that drives the service (`LocalService.serve_forever`): request threads only read and change state, the
worker runs invocations. `DurableApi` is the route table; `DurableHttpApp` renders what it returns or raises.

Wire details that matter to botocore's rest-json parser:

* timestamps in response bodies are epoch *seconds* (``unixtimestamp``), not the epoch milliseconds of the
  invocation input;
* errors carry their code in the ``X-Amzn-ErrorType`` header and the HTTP status of the error shape
  (400 InvalidParameterValueException, 404 ResourceNotFoundException, 409
  DurableExecutionAlreadyStartedException and ResourceConflictException, 413 RequestTooLargeException);
* Pause, Resume and Delete answer 202, as botocore's model says.
* SendDurableExecutionCallbackSuccess's body is the raw ``Result`` blob; Failure's and Stop's bodies are the
  ``Error`` structure itself.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from eventflow.errors import CheckpointError, DurableError
from eventflow.events.enums import ExecutionStatus
from eventflow.events.records import as_operation
from eventflow.events.wire import ErrorObject, OperationUpdate
from eventflow.local.console import with_console
from eventflow.local.engine import LocalService
from eventflow.local.errors import (
    ExecutionAlreadyStartedError,
    InvalidParameterValueError,
    InvalidRequestContentError,
    ResourceNotFoundError,
    ServiceError,
)
from eventflow.local.functions import InvocationTimedOut, RegisteredFunction, call_handler
from eventflow.local.http_server import HttpRequest, HttpResponse, HttpServer, Limits

log = logging.getLogger(__name__)

MAX_BODY_BYTES = Limits().max_body  # room for a checkpointed result over Lambda's 6 MiB response
INVOKE_WAIT_SECONDS = 15 * 60.0

Route = Callable[["_Request"], "_Response"]


class _Response:
    __slots__ = ("body", "headers", "status")

    def __init__(self, body: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.body = body
        self.status = status
        self.headers = headers or {}


class _Request:
    __slots__ = ("body", "headers", "params", "query")

    def __init__(
        self, params: dict[str, str], query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> None:
        self.params = params
        self.query = query
        self.headers = headers
        self.body = body

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise InvalidParameterValueError(f"the request body is not JSON: {exc}") from None
        except RecursionError:
            raise InvalidParameterValueError("the request body is nested too deeply") from None
        if not isinstance(data, dict):
            raise InvalidParameterValueError("the request body must be a JSON object")
        return data

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def int_arg(self, name: str) -> int | None:
        value = self.arg(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise InvalidParameterValueError(f"{name} must be an integer, got {value!r}") from None
        if number < 1:
            raise InvalidParameterValueError(f"{name} must be at least 1")
        return number

    def bool_arg(self, name: str) -> bool | None:
        value = self.arg(name)
        return None if value is None else value.lower() == "true"

    def time_arg(self, name: str) -> datetime | None:
        value = self.arg(name)
        if value is None:
            return None
        try:
            return (
                datetime.fromisoformat(value.replace("Z", "+00:00"))
                if not value.isdigit()
                else (datetime.fromtimestamp(int(value), UTC))
            )
        except (ValueError, OverflowError, OSError):  # OverflowError/OSError: out of the platform's range
            raise InvalidParameterValueError(f"{name} must be a timestamp, got {value!r}") from None


def _epoch_seconds(value: object) -> object:
    """JSON for botocore's rest-json parser: datetimes as epoch seconds, bytes as text."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"cannot render {type(value).__name__}")


_FUNCTION_NAME = re.compile(
    r"(?:(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?\d{12}:function:)?"
    r"(?P<name>[a-zA-Z0-9_.-]+)(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?"
)
"""A FunctionName as Lambda takes it: a name, a full or partial ARN, each optionally ``:QUALIFIER``."""


def _function_name(target: str) -> tuple[str, str | None]:
    """The function's bare name and the qualifier (version or alias) the FunctionName carries, if any.
    Something that is not a FunctionName is returned whole, to be reported as not found."""
    match = _FUNCTION_NAME.fullmatch(target)
    return (match["name"], match["qualifier"]) if match else (target, None)


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidParameterValueError(f"{name} must be a string")
    return value


def _error_object(data: Any) -> ErrorObject | None:
    if data in (None, {}):
        return None
    if not isinstance(data, dict):
        raise InvalidParameterValueError("Error must be an object")
    return ErrorObject.from_wire(data)


class DurableApi:
    """The route table and the handlers of every durable-execution API, over one `LocalService`."""

    def __init__(self, service: LocalService) -> None:
        self.service = service
        arn, name, cb = (
            r"(?P<arn>[^/?]+)",
            r"(?P<name>[^/?]+)",
            r"/2025-12-01/durable-execution-callbacks/(?P<id>[^/?]+)",
        )
        self.routes: list[tuple[str, re.Pattern[str], Route]] = [
            ("POST", re.compile(rf"/2025-12-01/durable-executions/{arn}/checkpoint"), self.checkpoint),
            ("GET", re.compile(rf"/2025-12-01/durable-executions/{arn}/state"), self.get_state),
            ("GET", re.compile(rf"/2025-12-01/durable-executions/{arn}/history"), self.get_history),
            ("POST", re.compile(rf"/2025-12-01/durable-executions/{arn}/stop"), self.stop),
            ("GET", re.compile(rf"/2025-12-01/durable-executions/{arn}"), self.get_execution),
            ("POST", re.compile(rf"/2025-12-01/durable-executions/{arn}/pause"), self.pause),
            ("POST", re.compile(rf"/2025-12-01/durable-executions/{arn}/resume"), self.resume),
            ("DELETE", re.compile(rf"/2025-12-01/durable-executions/{arn}"), self.delete),
            ("GET", re.compile(rf"/2025-12-01/functions/{name}/durable-executions"), self.list_executions),
            (
                "POST",
                re.compile(rf"{cb}/succeed"),
                self.succeed,
            ),
            ("POST", re.compile(rf"{cb}/fail"), self.fail),
            (
                "POST",
                re.compile(rf"{cb}/heartbeat"),
                self.heartbeat,
            ),
            ("POST", re.compile(rf"/2015-03-31/functions/{name}/invocations"), self.invoke),
        ]

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route_method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                return handler, {key: unquote(value) for key, value in match.groupdict().items()}
        return None

    def methods(self, path: str) -> set[str]:
        """The methods some route takes on ``path`` (empty: no such path), for a 405's Allow header."""
        found = {method for method, pattern, _ in self.routes if pattern.fullmatch(path)}
        return found | {"HEAD"} if "GET" in found else found

    # -- execution state -------------------------------------------------------------------------------

    def checkpoint(self, request: _Request) -> _Response:
        body = request.json()
        token = body.get("CheckpointToken")
        if not isinstance(token, str) or not token:
            raise InvalidParameterValueError("CheckpointToken is required")
        raw = body.get("Updates") or []
        if not isinstance(raw, list):
            raise InvalidParameterValueError("Updates must be a list")
        updates = [OperationUpdate.from_wire(update) for update in raw]
        result = self.service.checkpoint(request.params["arn"], token, updates)
        operations = [as_operation(op).to_boto_params() for op in result.operations]
        return _Response({"CheckpointToken": result.token, "NewExecutionState": {"Operations": operations}})

    def get_state(self, request: _Request) -> _Response:
        token = request.arg("CheckpointToken")
        if not token:
            raise InvalidParameterValueError("CheckpointToken is required")
        page = self.service.get_state(
            request.params["arn"], token, request.arg("Marker") or "", request.int_arg("MaxItems")
        )
        body: dict[str, Any] = {"Operations": [as_operation(op).to_boto_params() for op in page.operations]}
        if page.next_marker:
            body["NextMarker"] = page.next_marker
        return _Response(body)

    def get_history(self, request: _Request) -> _Response:
        events, marker = self.service.get_history(
            request.params["arn"],
            max_items=request.int_arg("MaxItems"),
            marker=request.arg("Marker"),
            reverse=bool(request.bool_arg("ReverseOrder")),
            include_data=request.bool_arg("IncludeExecutionData") is not False,
        )
        body: dict[str, Any] = {"Events": [event.to_boto_params() for event in events]}
        if marker:
            body["NextMarker"] = marker
        return _Response(body)

    def get_execution(self, request: _Request) -> _Response:
        include = request.bool_arg("IncludeExecutionData") is not False
        return _Response(self.service.describe(request.params["arn"], include_data=include).to_boto_params())

    def list_executions(self, request: _Request) -> _Response:
        function_name, qualifier = _function_name(request.params["name"])
        if function_name not in self.service.functions:
            raise ResourceNotFoundError(f"Function not found: {function_name}")
        given = request.arg("Qualifier")
        if given is not None and qualifier is not None and given != qualifier:
            raise InvalidParameterValueError(
                f"the qualifier in the function name ({qualifier}) does not match the Qualifier ({given})"
            )
        statuses = request.query.get("Statuses")
        for status in statuses or ():
            if status not in ExecutionStatus.__members__:
                raise InvalidParameterValueError(f"unknown status {status!r}")
        rows, marker = self.service.list_executions(
            function_name,
            qualifier=given or qualifier,
            name=request.arg("DurableExecutionName"),
            statuses=statuses,
            started_after=request.time_arg("StartedAfter"),
            started_before=request.time_arg("StartedBefore"),
            reverse=bool(request.bool_arg("ReverseOrder")),
            marker=request.arg("Marker"),
            max_items=request.int_arg("MaxItems"),
        )
        items = []
        for row in rows:
            item: dict[str, Any] = {
                "DurableExecutionArn": row.arn,
                "DurableExecutionName": row.name,
                "FunctionArn": row.arn.split("/durable-execution/")[0],
                "Status": row.status.value,
                "StartTimestamp": row.started_at,
            }
            if row.ended_at is not None:
                item["EndTimestamp"] = row.ended_at
            items.append(item)
        body: dict[str, Any] = {"DurableExecutions": items}
        if marker:
            body["NextMarker"] = marker
        return _Response(body)

    def stop(self, request: _Request) -> _Response:
        stopped = self.service.stop(request.params["arn"], _error_object(request.json()))
        return _Response({"StopTimestamp": stopped})

    def pause(self, request: _Request) -> _Response:
        body = request.json()
        timeout_paused = body.get("ExecutionTimeoutPaused", True)
        if not isinstance(timeout_paused, bool):
            raise InvalidParameterValueError("ExecutionTimeoutPaused must be a boolean")
        self.service.pause(
            request.params["arn"],
            client_token=_optional_str(body, "ClientToken"),
            reason=_optional_str(body, "Reason"),
            timeout_paused=timeout_paused,
        )
        return _Response({}, 202)

    def resume(self, request: _Request) -> _Response:
        body = request.json()
        self.service.resume(
            request.params["arn"],
            client_token=_optional_str(body, "ClientToken"),
            reason=_optional_str(body, "Reason"),
        )
        return _Response({}, 202)

    def delete(self, request: _Request) -> _Response:
        deleted = self.service.delete(request.params["arn"])
        return _Response({"DeletionRequestTimestamp": deleted}, 202)

    # -- callbacks ------------------------------------------------------------------------------------

    def succeed(self, request: _Request) -> _Response:
        self.service.send_callback_success(request.params["id"], request.body if request.body else None)
        return _Response({})

    def fail(self, request: _Request) -> _Response:
        self.service.send_callback_failure(request.params["id"], _error_object(request.json()))
        return _Response({})

    def heartbeat(self, request: _Request) -> _Response:
        self.service.send_callback_heartbeat(request.params["id"])
        return _Response({})

    # -- Invoke -------------------------------------------------------------------------------------

    def invoke(self, request: _Request) -> _Response:
        """Lambda Invoke: a durable function starts (or finds, by DurableExecutionName) an execution;
        ``Event`` answers 202 at once, ``RequestResponse`` waits for the end and returns the result."""
        function_name, qualifier = _function_name(request.params["name"])  # a name or ARN, maybe qualified
        qualifier = request.arg("Qualifier") or qualifier
        spec = self.service.registry.get(function_name)
        if spec is None:
            raise ResourceNotFoundError(f"Function not found: {function_name}")
        invocation_type = request.headers.get("x-amz-invocation-type") or "RequestResponse"
        if invocation_type not in ("Event", "RequestResponse", "DryRun"):
            raise InvalidParameterValueError(f"unknown InvocationType {invocation_type!r}")
        payload: str | None = None
        if request.body:
            try:  # UnicodeDecodeError is a ValueError too
                payload = request.body.decode()
                json.loads(payload)
            except ValueError:
                raise InvalidRequestContentError("Could not parse request body into json") from None
        headers = {"X-Amz-Executed-Version": qualifier or "$LATEST"}
        if invocation_type == "DryRun":
            return _Response(b"", 204, headers)
        if not spec.durable:
            event = json.loads(payload) if payload else None
            if invocation_type == "Event":
                # Accepted now, run in the background as Lambda would; its outcome goes to the log only.
                threading.Thread(target=_call_plain_async, args=(spec, event), daemon=True).start()
                return _Response(b"", 202, headers)
            try:
                result = call_handler(spec, lambda: spec.handler(event, None))
                return _Response(json.dumps(result).encode(), 200, headers)
            except Exception as exc:  # Lambda answers 200 with the function's error, not a service error
                headers["X-Amz-Function-Error"] = "Unhandled"
                error = exc.error() if isinstance(exc, InvocationTimedOut) else None
                body = {
                    "errorType": error.error_type if error else type(exc).__name__,
                    "errorMessage": str(exc),
                }
                return _Response(json.dumps(body).encode(), 200, headers)
        execution = self.service.start_execution(
            function_name,
            name=request.headers.get("x-amz-durable-execution-name"),
            input_payload=payload,
            version=qualifier,
        )
        headers["X-Amz-Durable-Execution-Arn"] = execution.arn
        if invocation_type == "Event":
            return _Response(b"", 202, headers)
        execution = self.service.wait_for(execution.arn, INVOKE_WAIT_SECONDS)
        if execution.status is ExecutionStatus.SUCCEEDED:
            return _Response((execution.result or "null").encode(), 200, headers)
        headers["X-Amz-Function-Error"] = "Unhandled"
        error = execution.error or ErrorObject()
        body = {
            "errorType": error.error_type or execution.status.value,
            "errorMessage": error.error_message or "",
        }
        return _Response(json.dumps(body).encode(), 200, headers)


class DurableHttpApp:
    """The `Application` the HTTP server serves: routes a request, runs it, and renders what it returns or
    raises in botocore's REST-JSON shapes (errors: ``X-Amzn-ErrorType`` and a JSON message)."""

    def __init__(self, api: DurableApi) -> None:
        self.api = api

    def __call__(self, request: HttpRequest) -> HttpResponse:
        http_request = request
        method = "GET" if http_request.method == "HEAD" else http_request.method
        try:
            response = self._dispatch(method, http_request)
        except ExecutionAlreadyStartedError as exc:
            response = _error_response(exc.http_status, exc.code, str(exc), DurableExecutionArn=exc.arn)
        except ServiceError as exc:
            response = _error_response(exc.http_status, exc.code, str(exc))
        except CheckpointError as exc:
            code = exc.code or "InvalidParameterValueException"
            status = 404 if code == "ResourceNotFoundException" else 400
            response = _error_response(status, code, str(exc))
        except DurableError as exc:  # e.g. a malformed update: InvalidInputError
            response = _error_response(400, "InvalidParameterValueException", str(exc))
        except RecursionError:  # a body nested past what the parsers and validators can walk
            response = _error_response(
                400, "InvalidRequestContentException", "the request body is nested too deeply"
            )
        except Exception as exc:
            log.exception("internal error serving %s %s", method, http_request.path)
            response = _error_response(500, "ServiceException", f"internal error: {type(exc).__name__}")
        return _render(response)

    def _dispatch(self, method: str, http_request: HttpRequest) -> _Response:
        path = http_request.path
        found = self.api.route(method, path)
        if found is None:
            allowed = self.api.methods(path)
            if allowed:
                message = f"{http_request.method} is not allowed on {unquote(path)}"
                error = _error_response(405, "MethodNotAllowedException", message)
                error.headers["Allow"] = ", ".join(sorted(allowed))
                return error
            raise ResourceNotFoundError(f"no such route: {http_request.method} {unquote(path)}")
        route, params = found
        query = parse_qs(http_request.query)
        return route(_Request(params, query, http_request.headers, http_request.body))

    def error(self, status: int, code: str, message: str) -> HttpResponse:
        return _render(_error_response(status, code, message))


def _render(response: _Response) -> HttpResponse:
    body = response.body
    if not isinstance(body, bytes):
        body = json.dumps(body, default=_epoch_seconds).encode()
        response.headers.setdefault("Content-Type", "application/json")
    return HttpResponse(response.status, body, response.headers)


def _error_response(status: int, code: str, message: str, **extra: str) -> _Response:
    body = {"Type": "User" if status < 500 else "Service", "message": message, "Message": message, **extra}
    return _Response(body, status, {"X-Amzn-ErrorType": code, "Content-Type": "application/json"})


def _call_plain_async(spec: RegisteredFunction, event: Any) -> None:
    """An ``Event`` invocation of a plain function: nobody waits for it, so a failure (a timeout too) is
    only logged."""
    try:
        call_handler(spec, lambda: spec.handler(event, None))
    except Exception:
        log.exception("asynchronous invocation of %s failed", spec.name)


class LocalHttpServer:
    """The HTTP front-end of a `LocalService` (a hardened `HttpServer`), with the worker thread that drives
    the service."""

    def __init__(
        self,
        service: LocalService,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        limits: Limits | None = None,
        drive: bool = True,
    ) -> None:
        """``drive=False`` serves requests only: another thread drives the service (``eventflow run``)."""
        self._drive_service = drive
        self.service = service
        self.api = DurableApi(service)
        self._http = HttpServer((host, port), with_console(DurableHttpApp(self.api)), limits)
        self.server_address = self._http.server_address
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._drive, name="eventflow-local-worker", daemon=True)
        self._serving: threading.Thread | None = None

    @property
    def limits(self) -> Limits:
        return self._http.limits

    def serve_forever(self) -> None:
        """Accept and serve connections in this thread until `shutdown`."""
        self._http.serve_forever()

    def shutdown(self) -> None:
        self._http.shutdown()

    def server_close(self) -> None:
        self._http.server_close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def _drive(self) -> None:
        while not self._stop.is_set():
            try:
                self.service.serve_forever(self._stop)
            except Exception:  # one bad handler must not stop the service
                log.exception("the local service's worker failed; continuing")

    def start(self) -> LocalHttpServer:
        """Serve and drive in background threads; returns at once."""
        if self._drive_service:
            self._worker.start()
        self._serving = threading.Thread(
            target=self.serve_forever,
            name="eventflow-local-http",
            daemon=True,
        )
        self._serving.start()
        return self

    def run(self) -> None:
        """Serve in this thread until interrupted."""
        self._worker.start()
        try:
            self.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        self.service.shutdown()
        if self._serving is not None:
            self.shutdown()
            self._serving.join()
        self.server_close()
        if self._worker.is_alive():
            self._worker.join(timeout=5)

    def __enter__(self) -> LocalHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
