"""Make the repository's ``conformance`` package importable however pytest is started (it is not installed:
``pip install -e .`` ships only ``eventflow``)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
