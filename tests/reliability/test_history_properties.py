"""Random interleavings of checkpoints, timers, callbacks and crashes keep every history well formed.

Random workflows (every construct; callbacks answered, failed or timed out on the service's clock) run
on the local service with crashes at random points, which reorders when invocations end, timers fire
and answers arrive. For every execution the service holds (chained-invoke targets included):

* EventIds are dense, ExecutionStarted is 1, and the terminal Execution event (if any) is the last;
* folding the history through the operation state machines is legal at every event, and lands each
  operation in the status the service reports for it;
* there is one InvocationCompleted per invocation.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from eventflow.events.enums import EventType, ExecutionStatus, OperationStatus, OperationType
from eventflow.events.history import Event
from eventflow.local import LocalService
from eventflow.machine.fold import fold_events

from .conftest import examples
from .workflows import Condition, Map, Spec, run_workflow, specs

_TERMINAL_EVENTS = {
    EventType.EXECUTION_SUCCEEDED,
    EventType.EXECUTION_FAILED,
    EventType.EXECUTION_TIMED_OUT,
    EventType.EXECUTION_STOPPED,
}
# A step whose retry delay elapsed after its last event: history still reads PENDING, the operation READY.
_DELAY_ELAPSED_UNRECORDED = (OperationType.STEP, OperationStatus.PENDING, OperationStatus.READY)
STATS = {"workflows": 0, "executions": 0, "events": 0}


def _is_retry(event: Event) -> bool:
    details = event.step_failed_details or event.step_succeeded_details
    return bool(details and details.retry_details and details.retry_details.next_attempt_delay_seconds)


def check_histories(service: LocalService) -> None:
    rows, _ = service.list_executions(max_items=10**9)
    for arn in (row.arn for row in rows):  # ended executions are read back from the store
        execution = service.get(arn)
        events = service.history(arn)
        assert [e.event_id for e in events] == list(range(1, len(events) + 1)), arn
        assert events[0].event_type is EventType.EXECUTION_STARTED
        ends = [i for i, e in enumerate(events) if e.event_type in _TERMINAL_EVENTS]
        if execution.status is ExecutionStatus.RUNNING:
            assert ends == []
        else:
            assert ends == [len(events) - 1], [e.event_type for e in events]
        states = fold_events(
            (e.id, e.event_type, _is_retry(e)) for e in events if e.event_type is not None
        )
        for op_id, state in states.items():
            op = execution.operations.get(op_id)
            if op is None:  # the EXECUTION operation's events carry the execution's id
                continue
            if (op.type, state, op.status) == _DELAY_ELAPSED_UNRECORDED:
                continue  # no history event marks a retry delay elapsing (eventflow.machine.fold)
            assert str(state) == str(op.status), (op_id, op.type, state, op.status)
        completed = sum(e.event_type is EventType.INVOCATION_COMPLETED for e in events)
        assert completed == execution.invocations, (completed, execution.invocations)
        STATS["executions"] += 1
        STATS["events"] += len(events)


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=specs(), crashes=st.frozensets(st.integers(min_value=0, max_value=40), max_size=3))
# Found by this property: a condition check's retry delay elapses, then three crashes fail the execution.
@example(body=(Map("a", 1, (Condition("a", 2),), False),), crashes=frozenset({3, 4, 5}))
def test_every_history_stays_dense_and_legal(body: tuple[Spec, ...], crashes: frozenset[int]) -> None:
    outcome = run_workflow(body, crashes)
    assert outcome.service is not None
    check_histories(outcome.service)
    STATS["workflows"] += 1
