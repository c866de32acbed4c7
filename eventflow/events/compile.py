"""Compile the hot path's record schemas ahead of time: `python -m eventflow.events.compile [--check]`.

Derives the record schema of every model a first invocation validates (`COMPILED_MODELS` and the models
nested in them) from the pydantic models (`eventflow.events.record_schemas`) and writes them, as literals,
to `eventflow/events/_records_compiled.py`, which `eventflow.events.records` loads. A cold start thus
validates its input and the service's answers without importing pydantic or building a model schema
(pydantic-core, which runs the validators, is all it loads). With `--check` nothing is written; the exit
status is 1 if the committed file is stale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, Final

from eventflow.codegen import write_or_check
from eventflow.events._base import WireModel
from eventflow.events.invocation import DurableExecutionInvocationInput
from eventflow.events.record_schemas import nested_models, record_schema
from eventflow.events.wire import Operation

__all__ = ["COMMAND", "COMPILED_MODELS", "COMPILED_PATH", "main", "render"]

COMMAND: Final = "python -m eventflow.events.compile"
COMPILED_PATH: Final = Path(__file__).with_name("_records_compiled.py")
COMPILED_MODELS: Final[tuple[type[WireModel], ...]] = (DurableExecutionInvocationInput, Operation)
"""What a first invocation validates: its input, and the operations of the service's answers."""

_LINE_LENGTH: Final = 110  # the repository's ruff line length: the output passes `ruff check` as written
_INDENT: Final = "    "

_HEADER: Final = f'''\
# GENERATED FILE -- DO NOT EDIT BY HAND.
# Written by `{COMMAND}` from the wire models (eventflow/events/wire.py,
# invocation.py) through eventflow/events/record_schemas.py. To change a shape, edit the model and run
# that command again: tests/test_records_compiled.py fails while this file differs from what it writes.
"""The record schemas a first invocation validates, compiled ahead of time (see `eventflow.events.compile`).

`eventflow.events.records` validates with these, so a cold start imports neither pydantic nor builds a
model to read its input and the service's answers.
"""

from __future__ import annotations

from typing import Any

'''


class _Renderer:
    """Python source for a core schema: plain data as literals, the enums and functions it references by
    name (importing them), and the schema of each named model by that model's variable."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names  # id(schema of a model) -> its variable
        self.imports: dict[str, set[str]] = {}

    def _ref(self, obj: Enum | type | Callable[..., Any]) -> str:
        cls = obj if isinstance(obj, type) else type(obj) if isinstance(obj, Enum) else obj
        module = cls.__module__
        if not module.startswith("eventflow."):
            raise TypeError(f"cannot render {obj!r}: not an eventflow object")
        self.imports.setdefault(module, set()).add(cls.__qualname__)
        return f"{cls.__qualname__}.{obj.name}" if isinstance(obj, Enum) else cls.__qualname__

    def inline(self, value: Any) -> str:
        if id(value) in self.names:
            return self.names[id(value)]
        if isinstance(value, Enum):
            return self._ref(value)
        if value is None or isinstance(value, bool | int | float | str):
            return repr(value)
        if isinstance(value, type) or callable(value):
            return self._ref(value)
        if isinstance(value, list):
            return "[" + ", ".join(self.inline(item) for item in value) + "]"
        if isinstance(value, tuple):  # a union's (schema, tag) choice
            trailing = "," if len(value) == 1 else ""
            return "(" + ", ".join(self.inline(item) for item in value) + trailing + ")"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{key!r}: {self.inline(item)}" for key, item in value.items()) + "}"
        raise TypeError(f"cannot render {value!r} in a record schema")

    def block(self, value: Any, indent: int, prefix: str, suffix: str) -> list[str]:
        """``value`` after ``prefix`` at ``indent`` levels: on one line if it fits, else one item a line."""
        pad = _INDENT * indent
        line = f"{pad}{prefix}{self.inline(value)}{suffix}"
        if len(line) <= _LINE_LENGTH or id(value) in self.names or not isinstance(value, dict | list | tuple):
            return [line]
        opening, closing = {dict: ("{", "}"), list: ("[", "]"), tuple: ("(", ")")}[type(value)]
        lines = [f"{pad}{prefix}{opening}"]
        if isinstance(value, dict):
            for key, item in value.items():
                lines += self.block(item, indent + 1, f"{key!r}: ", ",")
        else:
            for item in value:
                lines += self.block(item, indent + 1, "", ",")
        lines.append(f"{pad}{closing}{suffix}")
        return lines


def render() -> str:
    """The text of `COMPILED_PATH`, as the current models derive it."""
    models: list[type[WireModel]] = []
    for root in COMPILED_MODELS:
        models += [model for model in nested_models(root) if model not in models]
    renderer = _Renderer({})
    body: list[str] = []
    for model in models:
        schema = record_schema(model)
        variable = f"_{model.__name__}"
        body += ["", *renderer.block(schema, 0, f"{variable}: dict[str, Any] = ", "")]
        renderer.names[id(schema)] = variable
    body += ["", "SCHEMAS: dict[str, dict[str, Any]] = {"]
    body += [f"{_INDENT}{model.__name__!r}: _{model.__name__}," for model in models]
    body.append("}")
    body.append('"""The record schema of each model, by model name."""')
    imports = [
        f"from {module} import {', '.join(sorted(names))}"
        for module, names in sorted(renderer.imports.items())
    ]
    return _HEADER + "\n".join(imports) + "\n" + "\n".join(body) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write `COMPILED_PATH` (or, with `--check`, only compare it); the process exit status."""
    return write_or_check(COMPILED_PATH, render(), COMMAND, argv)


if __name__ == "__main__":
    raise SystemExit(main())
