"""Fixtures for the operation tests: a fresh `FakeService` (see ``fakeservice.py``) per test."""

from __future__ import annotations

import pytest
from fakeservice import FakeService


@pytest.fixture
def service() -> FakeService:
    return FakeService()
