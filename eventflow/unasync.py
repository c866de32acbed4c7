"""``python -m eventflow.unasync [--check]``: write the sync `DurableContext` from `AsyncDurableContext`.

The two contexts offer the same operations with the same arguments, checks and docstrings; only the
flavour differs (``async def`` and ``await`` against plain calls, user functions that may be coroutine
functions against plain ones). So the context is written once, as the async class in `eventflow/aio.py`
between ``# unasync: begin`` and ``# unasync: end``, and this script writes its sync twin between the same
markers in `eventflow/context.py` by the token rules below (as httpcore generates its sync code with
unasync). A test runs ``--check``, which fails while the generated class is stale: add a construct to the
async class, run this, and both front-ends have it.

Rules, applied line by line in order: a block between ``# unasync: async only`` and ``# unasync: end async
only`` is dropped (overloads that only an async signature needs); then each substitution in `RULES`.
The drivers (`SyncDriver`, `AsyncDriver`) are not generated: they schedule work differently (threads and a
timer thread against tasks and the event loop's timers) and are written by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

from eventflow.codegen import write_or_check

SOURCE = Path(__file__).with_name("aio.py")
TARGET = Path(__file__).with_name("context.py")
BEGIN = "# unasync: begin"
END = "# unasync: end"
ASYNC_ONLY, END_ASYNC_ONLY = "# unasync: async only", "# unasync: end async only"

RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\basync def\b", "def"),
        (r"\bawait ", ""),
        (r"\bAsyncDurableContext\b", "DurableContext"),
        (r"\bAsyncCallback\b", "Callback"),
        (r"\bAsyncDriver\b", "SyncDriver"),
        (r" \| Awaitable\[(\w+)\]", ""),  # `T | Awaitable[T]`: a sync context takes plain functions
        (r" \(sync or async\)", ""),
        (r"\basyncio tasks\b", "threads"),
        (r"``async def handler\(", "``def handler("),
        (r"\basynchronous\b", "synchronous"),
    )
)


def region(text: str, path: Path) -> tuple[int, int]:
    """The line indices just inside the markers."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == BEGIN)
        end = next(i for i, line in enumerate(lines) if line.strip() == END and i > start)
    except StopIteration:
        raise SystemExit(f"{path}: no '{BEGIN}' ... '{END}' region") from None
    return start + 1, end


def sync_lines(async_lines: list[str]) -> list[str]:
    """The sync twin of the async class's lines."""
    out: list[str] = []
    dropping = False
    for line in async_lines:
        marker = line.strip()
        if marker == ASYNC_ONLY:
            dropping = True
            continue
        if marker == END_ASYNC_ONLY:
            dropping = False
            continue
        if dropping:
            continue
        text = line
        for pattern, replacement in RULES:
            text = pattern.sub(replacement, text)
        out.append(text)
    return out


def generated() -> str:
    """`eventflow/context.py` with its region rewritten from the async source."""
    source = SOURCE.read_text()
    a, b = region(source, SOURCE)
    body = sync_lines(source.splitlines()[a:b])
    target = TARGET.read_text()
    c, d = region(target, TARGET)
    lines = target.splitlines()
    return "\n".join([*lines[:c], *body, *lines[d:]]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the sync context (or, with ``--check``, only compare it); the process exit status."""
    return write_or_check(TARGET, generated(), "python -m eventflow.unasync", argv)


if __name__ == "__main__":
    raise SystemExit(main())
