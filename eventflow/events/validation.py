"""Validation errors as eventflow words them: one readable line per problem, naming its wire path.

Pydantic-free (its types are only annotations here), so that reporting bad input needs no more than the
pydantic-core validator that found it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails, ValidationError

__all__ = ["describe_validation_error"]


def _format_loc(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "<root>"


def _format_error(error: ErrorDetails) -> str:
    shown = repr(error.get("input"))
    if len(shown) > 80:
        shown = shown[:77] + "..."
    if error["type"] == "missing":
        return f"{_format_loc(error['loc'])}: field required"
    return f"{_format_loc(error['loc'])}: {error['msg']} (got {shown})"


def describe_validation_error(
    model_name: str, exc: ValidationError, errors: list[ErrorDetails] | None = None
) -> str:
    """One readable line per problem, each naming the wire path (e.g. `Operations[0].StepDetails.Attempt`).

    ``errors`` replaces ``exc.errors()`` when the caller has tidied them (see `eventflow.events.records`).
    """
    if errors is None:
        errors = exc.errors(include_url=False)
    details = "; ".join(_format_error(error) for error in errors)
    plural = "s" if len(errors) != 1 else ""
    return f"invalid {model_name}: {len(errors)} problem{plural}: {details}"
