"""History shapes of step retries: a failed attempt to retry is StepFailed; a RETRY that carries a state and
no error (wait_for_condition's "not yet") is StepSucceeded with NextAttemptDelaySeconds."""

from __future__ import annotations

from eventflow.events.enums import OperationAction, OperationType
from eventflow.events.wire import ErrorObject, OperationUpdate, StepOptions
from eventflow.local import LocalService

from .helpers import PENDING, RawHandler, match_history, step_start


def retry(op_id: str, *, payload: str | None = None, error: ErrorObject | None = None) -> OperationUpdate:
    return OperationUpdate(
        id=op_id,
        type=OperationType.STEP,
        sub_type="Step",
        action=OperationAction.RETRY,
        payload=payload,
        error=error,
        step_options=StepOptions(next_attempt_delay_seconds=7),
    )


def test_retry_shapes() -> None:
    service = LocalService()

    def first(h: RawHandler) -> dict[str, str]:
        h.checkpoint(step_start("a"), retry("a", error=ErrorObject(error_type="Boom")))
        h.checkpoint(step_start("c"), retry("c", payload='{"n": 1}'))
        return PENDING

    def second(h: RawHandler) -> dict[str, str]:
        return {"Status": "SUCCEEDED", "Result": "1"}

    service.register("fn", RawHandler(service, first, second))
    arn = service.start_execution("fn").arn
    service.run(arn)
    match_history(
        service.history(arn),
        [
            {
                "EventId": 3,
                "EventType": "StepFailed",
                "StepFailedDetails": {
                    "Error": {"Payload": {"ErrorType": "Boom"}},
                    "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 7},
                },
            },
            {
                "EventId": 5,
                "EventType": "StepSucceeded",
                "StepSucceededDetails": {
                    "Result": {"Payload": '{"n": 1}'},
                    "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 7},
                },
            },
            {"EventId": 6, "EventType": "InvocationCompleted"},
            {"EventId": 7, "EventType": "InvocationCompleted"},
        ],
    )
