"""The one entry point of eventflow's generated files: write them, or check that they are up to date.

Three files are generated ahead of time and committed: the machine tables (`eventflow.machine.compile`),
the record schemas (`eventflow.events.compile`) and the sync context (`eventflow.unasync`). Each generator
renders its text and hands it here; ``--check`` (what their tests run) fails while a committed file differs
from what its generator would write now.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["write_or_check"]


def write_or_check(path: Path, text: str, command: str, argv: Sequence[str] | None = None) -> int:
    """Write ``text`` to ``path``, or with ``--check`` in ``argv`` only compare; the exit status (0, 1 when
    the file is stale, 2 for other arguments). ``command`` is how to run the generator, for messages."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = args == ["--check"]
    if args and not check:
        print(f"usage: {command} [--check]", file=sys.stderr)
        return 2
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current == text:
        print(f"{path} is up to date")
        return 0
    if check:
        print(f"{path} is stale: run `{command}`", file=sys.stderr)
        return 1
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0
