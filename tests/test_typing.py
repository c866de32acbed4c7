"""Static types a user relies on: awaiting an async operation gives the async function's result type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SNIPPET = '''
from eventflow import AsyncDurableContext, BatchResult, StepContext

async def fetch(step: StepContext) -> int:
    return 1

def plain(step: StepContext) -> str:
    return "x"

async def body(child: AsyncDurableContext) -> float:
    return 1.5

async def item(c: AsyncDurableContext, x: int, i: int, items: object) -> bytes:
    return b""

async def handler(event: object, ctx: AsyncDurableContext) -> None:
    reveal_type(await ctx.step(fetch))
    reveal_type(await ctx.step(plain))
    reveal_type(await ctx.child_context(body))
    reveal_type(await ctx.map([1, 2], item))
'''


def test_awaiting_async_operations_infers_the_functions_result_types(tmp_path: Path) -> None:
    source = tmp_path / "snippet.py"
    source.write_text(SNIPPET)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "c"),
         str(source)],
        capture_output=True, text=True, check=False,
    )
    revealed = [line.split("Revealed type is ")[1] for line in done.stdout.splitlines() if "Revealed" in line]
    assert revealed == ['"int"', '"str"', '"float"', '"eventflow.batch.BatchResult[bytes]"'], done.stdout
