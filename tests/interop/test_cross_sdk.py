"""Histories that cross SDKs in both directions (issue: names, serialization, the verifier).

For every construct, each SDK runs its own version of a workflow on eventflow's local service, and the
finished execution's recorded operations are handed to the *other* SDK's version as the next invocation's
input. It must reach the recorded result and send no checkpoint at all. eventflow runs in the
configuration a migrating team would choose (`EnvelopeSerDes`, see docs/MIGRATING.md); the verifier must
say OK on every history, and eventflow's default JSON must read the official SDK's histories too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from eventflow import EnvelopeSerDes
from eventflow import durable_execution as eventflow_durable_execution
from eventflow.local import LocalService
from eventflow.testing.replay import verify

from .harness import (
    Replayed,
    as_official,
    local_service,
    replay_in_eventflow,
    replay_in_official,
    replay_input,
)
from .workflows import CASES, Case, World

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MIGRATING = EnvelopeSerDes


@pytest.fixture
def world() -> Iterator[tuple[LocalService, Any]]:
    with local_service() as (service, client):
        World.service = service
        yield service, client
        World.service = None


def _record(world: tuple[LocalService, Any], case: Case, writer: str) -> tuple[Any, dict[str, Any]]:
    service, client = world
    for target, handler in case.targets.items():
        service.register(target, handler)
    if writer == "official":
        service.register("fn", as_official(case.official, client))
    else:
        service.register("fn", eventflow_durable_execution(case.eventflow, serdes=MIGRATING()))
    execution = service.run(service.start_execution("fn", case.event).arn)
    if case.fails:
        assert execution.status == "FAILED", execution.error
    else:
        assert execution.status == "SUCCEEDED", execution.error
        assert json.loads(execution.result or "null") == json.loads(case.expected or "null")
    return execution, replay_input(service, execution)


def _assert_replayed(replayed: Replayed, execution: Any, case: Case) -> None:
    assert replayed.updates == []  # zero new checkpoints
    if case.fails:
        assert replayed.output["Status"] == "FAILED"
        assert execution.error is not None
        assert replayed.output["Error"]["ErrorMessage"] == execution.error.error_message
    else:
        assert replayed.output["Status"] == "SUCCEEDED", replayed.output
        assert json.loads(replayed.output["Result"]) == json.loads(execution.result)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_an_official_history_replays_in_eventflow(world: Any, case: Case) -> None:
    execution, event = _record(world, case, "official")
    _assert_replayed(replay_in_eventflow(case.eventflow, event, serdes=MIGRATING()), execution, case)
    _assert_replayed(replay_in_eventflow(case.eventflow, event), execution, case)  # the default serdes
    _assert_replayed(replay_in_official(case.official, event), execution, case)  # and in its own SDK


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_an_eventflow_history_replays_in_the_official_sdk(world: Any, case: Case) -> None:
    execution, event = _record(world, case, "eventflow")
    _assert_replayed(replay_in_official(case.official, event), execution, case)
    _assert_replayed(replay_in_eventflow(case.eventflow, event, serdes=MIGRATING()), execution, case)


@pytest.mark.parametrize("writer", ["official", "eventflow"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_verifier_says_ok_on_every_history(world: Any, case: Case, writer: str) -> None:
    service, _ = world
    execution, _ = _record(world, case, writer)
    report = verify(service.history(execution.arn), eventflow_durable_execution(case.eventflow,
                                                                                serdes=MIGRATING()))
    assert report.ok, str(report)
    assert report.complete
    if case.fails and writer == "official":  # the official SDK names the failure StepError
        assert any("error type differs in name only" in note for note in report.notes), report.notes
        assert "aws_durable_execution_sdk_python.exceptions.StepError" in str(report)
