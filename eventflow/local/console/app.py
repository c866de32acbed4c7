"""The console's routes, in front of the durable-execution API on the same port.

`ConsoleApp` is an `http_server.Application`: it answers ``/`` and everything under ``/console/`` and hands
every other request to the API application it wraps, unchanged. Its own errors use the API's error shape
(the wrapped application renders them), and bad input is a 4xx, as everywhere on this server.

Protection, since the console shares its port with an unauthenticated API and a browser visits it:

* **Host**: only ``localhost`` (or a ``*.localhost`` name) and IP literals are served. A DNS-rebinding page
  reaches the server under a name of its own, which is refused, so another site cannot read the console.
* **CSRF**: an action (POST) needs the token the page was served with, in the ``X-Eventflow-Csrf`` header
  (a custom header cross-site forms cannot send, and cross-origin scripts cannot send without a CORS
  preflight, which is never granted), a JSON body, and an ``Origin`` (if the browser sends one) that is
  this server's own.
* **Pages**: a strict Content-Security-Policy (scripts and styles from this server only, no inline script),
  ``nosniff`` and no framing. The script renders every payload with ``textContent``, never as HTML.

Live updates are long polls with ETags: the page sends ``If-None-Match`` and ``wait``; the request thread
sleeps on the service's change condition (`LocalService.wait_for_change`), and answers when something
changed or with 304 when ``wait`` seconds passed. No thread polls.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
import secrets
import time
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from eventflow.errors import DurableError
from eventflow.events.enums import OperationType
from eventflow.local.console import actions, data
from eventflow.local.console.diagram import machine_svg
from eventflow.local.engine import LocalService
from eventflow.local.errors import InvalidParameterValueError, ResourceNotFoundError, ServiceError
from eventflow.local.http_server import Application, HttpRequest, HttpResponse
from eventflow.testing.histories import dumps_json

MAX_WAIT_SECONDS = 30.0
CSRF_HEADER = "x-eventflow-csrf"

STATIC_TYPES = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
JSON_HEADERS = {
    "Content-Type": "application/json",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

Handler = Callable[[HttpRequest, dict[str, str]], HttpResponse]


class Forbidden(ServiceError):
    http_status = 403
    code = "ForbiddenException"


def _static(name: str) -> bytes:
    return resources.files("eventflow.local.console").joinpath("static", name).read_bytes()


def _host_allowed(host: str | None) -> bool:
    """``localhost``, ``*.localhost`` or an IP literal, with an optional port."""
    if not host:
        return False
    if host.startswith("["):  # [IPv6]:port
        end = host.find("]")
        if end < 0:
            return False
        name = host[1:end]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class ConsoleApp:
    """The console in front of ``api_app`` (the `DurableHttpApp`, whose ``api`` is the route table)."""

    def __init__(self, api_app: Any) -> None:
        self.api_app: Application = api_app
        self.routes_table = api_app.api
        self.service: LocalService = api_app.api.service
        self.csrf_token = secrets.token_urlsafe(32)
        arn = r"(?P<arn>[^/]+)"
        self._get: list[tuple[re.Pattern[str], Handler]] = [
            (re.compile(r"/"), self.page),
            (re.compile(rf"/console/executions/{arn}"), self.page),
            (re.compile(r"/console/static/(?P<name>[a-z.]+)"), self.static),
            (re.compile(r"/console/machines/(?P<type>[A-Z_]+)\.svg"), self.machine),
            (re.compile(r"/console/api/executions"), self.list_executions),
            (re.compile(rf"/console/api/executions/{arn}"), self.execution),
            (re.compile(rf"/console/api/executions/{arn}/events"), self.events),
            (re.compile(rf"/console/api/executions/{arn}/history\.json"), self.history),
        ]
        self._post: list[tuple[re.Pattern[str], Handler]] = [
            (re.compile(r"/console/api/actions/(?P<action>[a-z-]+)"), self.action),
        ]

    # -- the Application protocol -----------------------------------------------------------------

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != "/" and not request.path.startswith("/console/"):
            return self.api_app(request)
        try:
            return self._dispatch(request)
        except ServiceError as exc:
            return self.api_app.error(exc.http_status, exc.code, str(exc))
        except DurableError as exc:
            return self.api_app.error(400, "InvalidParameterValueException", str(exc))

    def error(self, status: int, code: str, message: str) -> HttpResponse:
        return self.api_app.error(status, code, message)

    def _dispatch(self, request: HttpRequest) -> HttpResponse:
        if not _host_allowed(request.header("host")):
            raise Forbidden("the console answers only to localhost or an IP address in the Host header")
        method = "GET" if request.method == "HEAD" else request.method
        for table, name in ((self._get, "GET"), (self._post, "POST")):
            for pattern, handler in table:
                match = pattern.fullmatch(request.path)
                if match is None:
                    continue
                if method != name:
                    response = self.api_app.error(
                        405, "MethodNotAllowedException", f"{request.method} is not allowed here"
                    )
                    response.headers = {
                        **(response.headers or {}),
                        "Allow": "GET, HEAD" if name == "GET" else name,
                    }
                    return response
                params = {key: unquote(value) for key, value in match.groupdict().items()}
                return handler(request, params)
        raise ResourceNotFoundError(f"no such console page: {unquote(request.path)}")

    # -- pages and assets -------------------------------------------------------------------------

    def page(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        html = _static("index.html").replace(b"{{CSRF}}", self.csrf_token.encode())
        return HttpResponse(200, html, dict(PAGE_HEADERS))

    def static(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        kind = STATIC_TYPES.get(params["name"])
        if kind is None:
            raise ResourceNotFoundError(f"no such console asset: {params['name']}")
        headers = {"Content-Type": kind, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
        return HttpResponse(200, _static(params["name"]), headers)

    def machine(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        if params["type"] not in OperationType.__members__:
            raise ResourceNotFoundError(f"no operation type {params['type']}")
        svg = machine_svg(OperationType[params["type"]]).encode()
        headers = {"Content-Type": "image/svg+xml", "X-Content-Type-Options": "nosniff"}
        return HttpResponse(200, svg, headers)

    # -- reading ----------------------------------------------------------------------------------

    def list_executions(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        query = parse_qs(request.query)
        limit = _int(query, "limit", data.PAGE_SIZE)

        def render() -> Any:
            return data.execution_list(
                self.service,
                statuses=[s for value in query.get("status", ()) for s in value.split(",") if s],
                function=_last(query, "function"),
                marker=_last(query, "marker"),
                limit=limit,
            )

        return self._live(request, query, lambda: f"g{self.service.generation}", render)

    def execution(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        arn = params["arn"]
        query = parse_qs(request.query)
        return self._live(
            request,
            query,
            lambda: data.fingerprint(self.service, arn),
            lambda: data.execution_detail(self.service, arn, self.routes_table),
        )

    def events(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        op_id = _last(parse_qs(request.query), "op")
        if not op_id:
            raise InvalidParameterValueError("op (an operation id) is required")
        return _json(data.operation_events(self.service, params["arn"], op_id))

    def history(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        arn = params["arn"]
        body = dumps_json(self.service.history(arn)).encode()
        name = quote(arn.rsplit("/", 1)[-1], safe="") or "history"
        headers = {
            "Content-Type": "application/json",
            "Content-Disposition": f'attachment; filename="history-{name}.json"',
            "X-Content-Type-Options": "nosniff",
        }
        return HttpResponse(200, body, headers)

    def _live(
        self,
        request: HttpRequest,
        query: dict[str, list[str]],
        tag: Callable[[], str],
        render: Callable[[], Any],
    ) -> HttpResponse:
        """Answer at once, unless the page already has the current state (``If-None-Match``) and asked
        to ``wait``: then sleep on the service's changes until the ETag moves, or answer 304."""
        wait = min(float(_int(query, "wait", 0)), MAX_WAIT_SECONDS)
        seen = self.service.generation
        current = tag()
        known = (request.header("if-none-match") or "").strip('"')
        deadline = time.monotonic() + wait
        while known == current:
            left = deadline - time.monotonic()
            if left <= 0:
                return HttpResponse(304, b"", {"ETag": f'"{current}"', "Cache-Control": "no-cache"})
            seen = self.service.wait_for_change(seen, left)
            current = tag()
        body = render()
        return _json(body, {"ETag": f'"{current}"'})

    # -- acting -----------------------------------------------------------------------------------

    def action(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        self._check_csrf(request)
        action = actions.BY_NAME.get(params["action"])
        if action is None:
            raise ResourceNotFoundError(f"no console action {params['action']!r}")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise InvalidParameterValueError("the action's body must be JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("target"), str) or not body["target"]:
            raise InvalidParameterValueError('the body must be {"target": "<ARN or callback id>", ...}')
        fields = body.get("fields")
        fields = {} if fields is None else fields
        if not isinstance(fields, dict):
            raise InvalidParameterValueError("fields must be an object")
        if not actions.served(action, self.routes_table):
            raise ResourceNotFoundError(f"this service has no {action.label} route")
        return actions.perform(self.api_app, action, body["target"], fields)

    def _check_csrf(self, request: HttpRequest) -> None:
        token = request.header(CSRF_HEADER) or ""
        if not hmac.compare_digest(token.encode(), self.csrf_token.encode()):
            raise Forbidden(f"a console action needs the page's token in the {CSRF_HEADER} header")
        origin = request.header("origin")
        if origin is not None and origin != f"http://{request.header('host')}":
            raise Forbidden(f"a console action from another origin ({origin}) is refused")
        if (request.header("content-type") or "").split(";")[0].strip() != "application/json":
            raise InvalidParameterValueError("a console action's body must be application/json")


def _last(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _int(query: dict[str, list[str]], name: str, default: int) -> int:
    value = _last(query, name)
    if value is None:
        return default
    if not value.isascii() or not value.isdigit():
        raise InvalidParameterValueError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def _json(body: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return HttpResponse(200, text, {**JSON_HEADERS, **(headers or {})})
