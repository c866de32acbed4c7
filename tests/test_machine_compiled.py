"""The committed eventflow/machine/_compiled.py is exactly what the `transitions` definitions compile to.

`eventflow.machine.table` loads that generated file instead of building the machines at import, so a
definition changed without regenerating it must fail here, saying how to regenerate.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from eventflow.events.enums import OperationType
from eventflow.machine import TABLES
from eventflow.machine.compile import COMMAND, COMPILED_PATH, compile_tables, main, render
from eventflow.machine.table import FLAT_TRANSITIONS

STALE = f"eventflow/machine/_compiled.py is stale: run `{COMMAND}` and commit the result"


def test_committed_file_is_what_the_generator_writes() -> None:
    assert COMPILED_PATH.read_text(encoding="utf-8") == render(), STALE


def _typed(values: Iterable[object]) -> list[tuple[type, object]]:
    """Each value with its type: the tables hold enum members, not merely strings equal to them."""
    return [(type(value), value) for value in values]


def test_loaded_tables_equal_tables_compiled_from_the_transitions_machines() -> None:
    fresh = compile_tables()
    assert [table.op_type for table in fresh] == list(OperationType) == list(TABLES), STALE
    for table in fresh:
        loaded = TABLES[table.op_type]
        assert loaded == table, STALE
        # in the same orders (definition order drives allowed_triggers and FLAT_TRANSITIONS) and types
        assert _typed(loaded.states) == _typed(table.states)
        assert _typed(loaded.triggers) == _typed(table.triggers)
        assert _typed([loaded.initial]) == _typed([table.initial])
        assert set(_typed(loaded.terminal)) == set(_typed(table.terminal))
        assert [_typed((*key, dest)) for key, dest in loaded.transitions.items()] == [
            _typed((*key, dest)) for key, dest in table.transitions.items()
        ]


def test_flat_transitions_cover_every_table() -> None:
    expected = {
        (op_type, state, trigger): dest
        for op_type, table in TABLES.items()
        for (state, trigger), dest in table.transitions.items()
    }
    assert expected == FLAT_TRANSITIONS


def test_check_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "_compiled.py"
    monkeypatch.setattr("eventflow.machine.compile.COMPILED_PATH", target)
    assert main(["--check"]) == 1
    assert COMMAND in capsys.readouterr().err
    assert not target.exists()
    assert main([]) == 0
    assert target.read_text(encoding="utf-8") == render()
    assert main(["--check"]) == 0
    assert main(["--bogus"]) == 2


# What the handler path never needs: `eventflow.machine` loads them on first use only.
_NOT_AT_IMPORT = (
    "eventflow.machine.compile",
    "eventflow.machine.definitions",
    "eventflow.machine.diagrams",
    "eventflow.machine.fold",
)


def test_import_eventflow_does_not_import_transitions() -> None:
    code = (
        "import sys, eventflow\n"
        "loaded = sorted(m for m in sys.modules if m == 'transitions' or m.startswith('transitions.'))\n"
        f"cold = [m for m in {_NOT_AT_IMPORT!r} if m in sys.modules]\n"
        "assert not loaded and not cold, (loaded, cold)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
