"""The single table of requirements eventflow cannot pass yet, each with its concrete reason.

Both reporters read it: pytest marks these ``xfail(strict=True)`` (so a fix that makes one pass fails CI until
its line is removed here), and ``python -m conformance`` reports them as "not implemented" with the reason.
A reason names the eventflow component that must change and the behaviour the requirement expects.
Nothing here loosens a requirement: each is still run and judged by the suite's own validator.
"""

from __future__ import annotations

NOT_IMPLEMENTED: dict[str, str] = {}
