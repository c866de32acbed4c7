"""`LambdaBackend` against botocore's real retry machinery: bounded, jittered, then a clear error.

botocore's `Stubber` answers before the retry handler runs, so it cannot show retries. These tests use a
real ``lambda`` client instead and answer at ``before-send``, the last hook before the HTTP connection:
botocore's "standard" retry mode then sees every canned 429/5xx/connection error exactly as it would see
the network's. Its sleeps are recorded instead of slept, so the test checks the delays without waiting.
"""

from __future__ import annotations

import json
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore import endpoint
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from eventflow import DurableContext
from eventflow.backends.aws import LambdaBackend
from eventflow.errors import CheckpointError
from eventflow.events.enums import OperationAction, OperationType
from eventflow.events.wire import OperationUpdate
from eventflow.handler import DurableHandler

ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST/durable-execution/x/1"
UPDATE = OperationUpdate(
    id="1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97",
    type=OperationType.STEP,
    sub_type="Step",
    action=OperationAction.SUCCEED,
    payload='"ok"',
)

Answer = Callable[[Any], AWSResponse]


class _Raw:
    """Just enough of urllib3's response for botocore to read a body."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


def reply(status: int, body: dict[str, Any], error_type: str | None = None) -> Answer:
    def answer(request: Any) -> AWSResponse:
        headers = {"Content-Type": "application/json"}
        if error_type:
            headers["X-Amzn-ErrorType"] = error_type
        data = json.dumps(body).encode()
        return AWSResponse(request.url, status, headers, _Raw(data))

    return answer


def raise_(exc: Exception) -> Answer:
    def answer(request: Any) -> AWSResponse:
        raise exc

    return answer


class Wire:
    """Canned answers, one per HTTP attempt (the last one repeats), and what was sent."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[Any] = []
        self.sleeps: list[float] = []

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse:
        self.requests.append(request)
        index = min(len(self.requests) - 1, len(self.answers) - 1)
        return self.answers[index](request)

    @property
    def client_tokens(self) -> list[str]:
        return [json.loads(r.body)["ClientToken"] for r in self.requests]


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[LambdaBackend, Wire]]]:
    def make(*answers: Answer, max_attempts: int = 5) -> tuple[LambdaBackend, Wire]:
        w = Wire(*answers)
        fake_time = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("_")})
        fake_time.sleep = w.sleeps.append
        monkeypatch.setattr(endpoint, "time", fake_time)
        backend = LambdaBackend(
            max_attempts=max_attempts,
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
        )
        backend.client.meta.events.register("before-send.lambda", w)
        return backend, w

    yield make


OK = reply(200, {"CheckpointToken": "t2", "NewExecutionState": {"Operations": []}})
THROTTLED = reply(429, {"message": "Rate exceeded"}, "TooManyRequestsException")
UNAVAILABLE = reply(503, {"message": "Service unavailable"}, "ServiceException")
TOO_LARGE = reply(
    400,
    {"message": "STEP output payload size must be less than or equal to 262144 bytes"},
    "InvalidParameterValueException",
)
BAD_TOKEN = reply(400, {"message": "Invalid checkpoint token: stale"}, "InvalidParameterValueException")


@pytest.mark.parametrize(
    "failure",
    [
        THROTTLED,
        UNAVAILABLE,
        raise_(ConnectionClosedError(endpoint_url="https://lambda")),
        raise_(ReadTimeoutError(endpoint_url="https://lambda")),
    ],
    ids=["throttle-429", "5xx", "connection-reset", "read-timeout"],
)
def test_transient_failures_are_retried_a_bounded_number_of_times_with_jitter(
    wire: Callable[..., tuple[LambdaBackend, Wire]], failure: Answer
) -> None:
    backend, w = wire(failure, max_attempts=5)
    with pytest.raises(CheckpointError) as caught:
        backend.checkpoint(ARN, "t1", [UPDATE])
    assert len(w.requests) == 5  # bounded: max_attempts in total, then it gives up
    assert not caught.value.terminal  # the invocation may be retried by Lambda
    assert len(w.sleeps) == 4 and all(0 <= s <= 20 for s in w.sleeps)  # botocore's cap
    assert len(set(w.sleeps)) > 1  # jittered, not a fixed schedule
    # One ClientToken for every attempt: a retry of an applied-but-unanswered call cannot apply twice.
    assert len(set(w.client_tokens)) == 1


def test_a_transient_failure_followed_by_success_returns_the_answer(
    wire: Callable[..., tuple[LambdaBackend, Wire]],
) -> None:
    backend, w = wire(THROTTLED, UNAVAILABLE, OK)
    result = backend.checkpoint(ARN, "t1", [UPDATE])
    assert result.token == "t2" and len(w.requests) == 3 and len(set(w.client_tokens)) == 1


@pytest.mark.parametrize("answer", [TOO_LARGE], ids=["payload-too-large"])
def test_size_and_validation_errors_are_terminal_and_not_retried(
    wire: Callable[..., tuple[LambdaBackend, Wire]], answer: Answer
) -> None:
    backend, w = wire(answer)
    with pytest.raises(CheckpointError) as caught:
        backend.checkpoint(ARN, "t1", [UPDATE])
    assert len(w.requests) == 1
    assert caught.value.terminal and "262144" in str(caught.value)


def test_an_invalid_token_is_retryable_by_lambda_not_terminal(
    wire: Callable[..., tuple[LambdaBackend, Wire]],
) -> None:
    backend, w = wire(BAD_TOKEN)
    with pytest.raises(CheckpointError) as caught:
        backend.checkpoint(ARN, "t1", [UPDATE])
    assert len(w.requests) == 1 and not caught.value.terminal


@pytest.mark.parametrize(
    "body",
    [{}, {"NewExecutionState": {"Operations": []}}, {"CheckpointToken": ""}],
    ids=["empty", "no-token", "empty-token"],
)
def test_an_answer_without_a_token_is_a_retryable_checkpoint_error(
    wire: Callable[..., tuple[LambdaBackend, Wire]], body: dict[str, Any]
) -> None:
    backend, _ = wire(reply(200, body))
    with pytest.raises(CheckpointError, match="CheckpointToken") as caught:
        backend.checkpoint(ARN, "t1", [UPDATE])
    assert not caught.value.terminal


def _invocation() -> dict[str, Any]:
    return {
        "DurableExecutionArn": ARN,
        "CheckpointToken": "t1",
        "InitialExecutionState": {
            "Operations": [
                {
                    "Id": "exec",
                    "Type": "EXECUTION",
                    "Status": "STARTED",
                    "ExecutionDetails": {"InputPayload": "{}"},
                }
            ]
        },
    }


def _handler(event: Any, ctx: DurableContext) -> Any:
    return ctx.step(lambda _: "ok", name="s")


def test_the_handler_raises_after_exhausted_retries_so_lambda_retries_the_invocation(
    wire: Callable[..., tuple[LambdaBackend, Wire]],
) -> None:
    backend, w = wire(THROTTLED, max_attempts=3)
    with pytest.raises(CheckpointError):
        DurableHandler(_handler, backend)(_invocation(), None)
    assert len(w.requests) == 3


def test_the_handler_returns_failed_on_a_size_error_instead_of_being_retried_forever(
    wire: Callable[..., tuple[LambdaBackend, Wire]],
) -> None:
    backend, w = wire(TOO_LARGE)
    output = DurableHandler(_handler, backend)(_invocation(), None)
    assert output["Status"] == "FAILED"
    assert "262144" in output["Error"]["ErrorMessage"]
    assert len(w.requests) == 1
