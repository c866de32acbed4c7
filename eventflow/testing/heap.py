"""Views of a large history without the garbage collector re-scanning the history itself.

Why: a view of 100,000 operations builds a few hundred thousand small objects (labels, nodes, lines), and
every full collection they trigger walks every object alive -- above all the history being viewed, which
is the bulk of the heap and cannot be garbage while the view reads it. Measured (`python -m
benchmarks.views`), that walking was more than half of a view's time. `frozen_heap` moves the objects alive
on entry out of the collector's sight (`gc.freeze`) for the duration, and gives them back on exit
(`gc.unfreeze`), so collections during the view only look at what the view made. Nothing is leaked: an
object that became garbage meanwhile is collected by the first collection after the view.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Callable, Iterator, Sized
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")



class _Freezer:
    """Counts the views running (in any thread): the first freezes, the last unfreezes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0


_FREEZER = _Freezer()


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the objects alive on entry out of garbage collections until the block ends."""
    with _FREEZER.lock:
        if _FREEZER.depth == 0:
            gc.freeze()
        _FREEZER.depth += 1
    try:
        yield
    finally:
        with _FREEZER.lock:
            _FREEZER.depth -= 1
            if _FREEZER.depth == 0:
                gc.unfreeze()


FREEZE_FROM = 5_000
"""Views of fewer items than this run as they are: their collections are cheap, and freezing would only
move when the garbage of the code around them is collected."""


def with_frozen_heap(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` run inside `frozen_heap` when its first argument (the history, operations or batches) holds
    at least `FREEZE_FROM` items."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        source = args[0] if args else None
        if not isinstance(source, Sized) or len(source) < FREEZE_FROM:
            return fn(*args, **kwargs)
        with frozen_heap():
            return fn(*args, **kwargs)

    return wrapper
