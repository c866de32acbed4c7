"""The sync `DurableContext` is generated from `AsyncDurableContext`: one place to add a construct."""

from __future__ import annotations

import inspect
import subprocess
import sys

from eventflow import AsyncDurableContext, DurableContext
from eventflow.unasync import sync_lines


def test_the_generated_sync_context_is_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eventflow.unasync", "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr + "\nrun `python -m eventflow.unasync`"


def test_both_contexts_offer_the_same_operations_with_the_same_parameters() -> None:
    def operations(cls: type) -> dict[str, list[str]]:
        return {
            name: list(inspect.signature(member).parameters)
            for name, member in vars(cls).items()
            if callable(member) and not name.startswith("__")
        }

    assert operations(DurableContext) == operations(AsyncDurableContext)
    assert all(inspect.iscoroutinefunction(m) for n, m in vars(AsyncDurableContext).items()
               if callable(m) and not n.startswith("_"))
    assert not any(inspect.iscoroutinefunction(m) for m in vars(DurableContext).values() if callable(m))


def test_the_rules_turn_async_code_into_its_sync_twin() -> None:
    source = [
        "    # unasync: async only",
        "    @overload",
        "    async def step(self, fn: Callable[[StepContext], Awaitable[T]]) -> T: ...",
        "    # unasync: end async only",
        "    async def step(self, fn: Callable[[AsyncDurableContext], T | Awaitable[T]]) -> T:",
        '        """Run ``fn`` (sync or async)."""',
        "        return AsyncCallback(await self._driver.run(plan))",
    ]
    assert sync_lines(source) == [
        "    def step(self, fn: Callable[[DurableContext], T]) -> T:",
        '        """Run ``fn``."""',
        "        return Callback(self._driver.run(plan))",
    ]
