"""What a user can do from the console, each action one route of the durable-execution HTTP API.

Why through the API's routes: an action taken in the page must behave exactly as the same call from boto3
(validation, idempotency, errors), so the console builds the API request (method, path, body) and hands it
to the API application it wraps; its answer, error shape and status included, goes back to the page.

An action is offered where the execution's (or the callback operation's) status allows it *and* the API has
its route, so pause and resume (PauseDurableExecution and ResumeDurableExecution, botocore 1.44) appear by
themselves once the service serves those routes: adding an action is one `Action` row here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from eventflow.local.errors import InvalidParameterValueError
from eventflow.local.http_server import Application, HttpRequest, HttpResponse

Scope = Literal["execution", "callback"]
Body = Literal["none", "result", "error", "reason"]


@dataclass(frozen=True)
class Action:
    """One action: its API route (``{target}`` is the execution ARN or the callback id), the fields the
    page asks for (`Body`), and the statuses of its target in which it is offered."""

    name: str
    label: str
    scope: Scope
    route: str
    body: Body
    statuses: frozenset[str]

    def path(self, target: str) -> str:
        return self.route.format(target=quote(target, safe=""))

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "label": self.label, "scope": self.scope, "body": self.body}


_EXECUTION = "/2025-12-01/durable-executions/{target}"
_CALLBACK = "/2025-12-01/durable-execution-callbacks/{target}"
_OPEN = frozenset({"STARTED"})

ACTIONS: tuple[Action, ...] = (
    Action("callback-succeed", "Succeed", "callback", f"{_CALLBACK}/succeed", "result", _OPEN),
    Action("callback-fail", "Fail", "callback", f"{_CALLBACK}/fail", "error", _OPEN),
    Action("callback-heartbeat", "Heartbeat", "callback", f"{_CALLBACK}/heartbeat", "none", _OPEN),
    Action("pause", "Pause", "execution", f"{_EXECUTION}/pause", "reason", frozenset({"RUNNING"})),
    Action("resume", "Resume", "execution", f"{_EXECUTION}/resume", "reason", frozenset({"PAUSED"})),
    Action("stop", "Stop", "execution", f"{_EXECUTION}/stop", "error", frozenset({"RUNNING", "PAUSED"})),
)
BY_NAME = {action.name: action for action in ACTIONS}


def served(action: Action, routes: Any) -> bool:
    """Whether the API serves the action's route (``routes`` is a `DurableApi`: its ``methods(path)``)."""
    return "POST" in routes.methods(action.path("x"))


def offered(scope: Scope, status: str, routes: Any) -> list[Action]:
    """The actions of ``scope`` offered for a target in ``status``."""
    return [a for a in ACTIONS if a.scope == scope and status in a.statuses and served(a, routes)]


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidParameterValueError(f"{name} must be a string")
    return value


def request_body(action: Action, fields: dict[str, Any]) -> bytes:
    """The API request body for ``action`` from the page's form fields; bad fields are a clear 400."""
    if action.body == "none":
        return b""
    if action.body == "result":
        result = _text(fields, "result")
        if result is None:
            return b""
        try:
            json.loads(result)
        except ValueError as exc:
            raise InvalidParameterValueError(f"the result must be JSON: {exc}") from None
        return result.encode()
    if action.body == "reason":
        reason = _text(fields, "reason")
        return json.dumps({"Reason": reason} if reason else {}).encode()
    error = {
        key: value
        for key, value in (
            ("ErrorType", _text(fields, "errorType")),
            ("ErrorMessage", _text(fields, "errorMessage")),
            ("ErrorData", _text(fields, "errorData")),
        )
        if value is not None
    }
    return json.dumps(error).encode() if error else b""


def perform(api_app: Application, action: Action, target: str, fields: dict[str, Any]) -> HttpResponse:
    """Send ``action`` on ``target`` to the API application and return its answer."""
    body = request_body(action, fields)
    headers = {"content-type": "application/json", "content-length": str(len(body))}
    return api_app(HttpRequest("POST", action.path(target), "", "HTTP/1.1", headers, body))
