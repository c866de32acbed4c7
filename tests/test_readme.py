"""Every Python example in the README's "Durable operations" section runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Durable operations") : text.index("## Running locally")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


BLOCKS = _blocks()


def test_the_section_has_examples() -> None:
    assert len(BLOCKS) >= 7


@pytest.mark.parametrize("index", range(1, len(BLOCKS)), ids=lambda i: f"example-{i}")
def test_readme_example_runs(index: int) -> None:
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(BLOCKS[0], "README.md:preamble", "exec"), namespace)
    exec(compile(BLOCKS[index], f"README.md:example-{index}", "exec"), namespace)
