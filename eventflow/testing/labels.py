"""Stable, readable labels for operation ids, so snapshots read ``2/1`` instead of 64 hex digits.

Ids are hashes of their position (PROTOCOL.md §3): ``3`` is the root's third operation, ``3/1`` the first
operation inside it, ``1[0]`` item or branch 0 of the map or parallel operation ``1``, ``1[0]/1`` the first
operation of a FLAT item (which names the map itself as its parent).

Why it is linear: every operation names its parent, so a label is found among the positions *that parent*
can hand out, and each parent hands out its positions in order, 1, 2, 3, ... A parent's candidates are
derived lazily, a few past the highest position found so far; a hit at position ``n`` derives up to
``n + AHEAD``. An id not among them (a gap in the numbering, another SDK's rule) widens that parent's window
to ``WINDOW`` past the highest position found, and no further until a hit moves it: so a history of ``N``
operations costs ``O(N)`` hashes and memory, whatever its shape, and an id no rule derives is shown as it is.

Two derivations are known: the Python SDKs' (blake2b of ``"{parent id}-{n}"``) and the JS SDK's (the first
16 hex digits of md5 of the raw path ``"3-1"``, PROTOCOL.md §8), so a history either wrote reads with labels.
"""

from __future__ import annotations

from hashlib import md5

from eventflow.ids import branch_id, child_id

AHEAD = 1  # candidates derived past the highest position found: a hit at n derives up to n + AHEAD
WINDOW = 64  # how far one miss widens a parent's window (a gap in its numbering up to this is bridged)
_FLAT_AHEAD = 2  # operations derived per FLAT item before one of them is found

# The kinds of sequence. ROOT: the root's operations ``hash("n")``. POSITIONS: ``hash("{parent}-{k}")``,
# operation ``k`` of a child context and (the same hash) item or branch ``k`` of a map or parallel
# operation, labelled ``P/k`` (``P[0]`` for item 0, which no operation shares). FLAT: the items of a FLAT
# batch, which write nothing at their own ids while their operations derive from those ids but name the
# batch as their parent; deriving item ``k`` opens an ITEM sequence, its first few operations. JS: the JS
# SDK's ids, md5 of the raw path, under the root or a JS-derived parent.
_ROOT, _POSITIONS, _FLAT, _ITEM, _JS = range(5)


def js_id(raw_path: str) -> str:
    """The JS SDK's id for a raw id path such as ``"3-1"``."""
    return md5(raw_path.encode(), usedforsecurity=False).hexdigest()[:16]


class _Sequence:
    """The positions one parent hands out under one rule, derived lazily and in order.

    Derived ids go into the labeller's table with a pointer back here, so that a hit moves this window
    forward. (Plain slots, no closures: a view of a large history makes one per parent, and every object
    that holds references is more work for the garbage collector.)
    """

    __slots__ = ("base", "derived", "highest", "index", "kind", "owner", "parent")

    def __init__(
        self, kind: int, parent: str, base: str, first: int, owner: _Sequence | None = None, index: int = 0
    ) -> None:
        self.kind = kind
        self.parent = parent  # the id (or the JS raw path) the ids derive from
        self.base = base  # the label they extend
        self.derived = first  # the next index to derive
        self.highest = first - 1  # the highest index found
        self.owner = owner  # FLAT: the batch's POSITIONS; ITEM: its FLAT sequence
        self.index = index  # ITEM: the item's index


class IdLabeler:
    """Labels ids from their parent links: each parent's positions are derived as far as they are used."""

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}
        self._origin: dict[str, _Sequence] = {}  # a derived id -> the sequence that derived it
        self._index: dict[str, int] = {}  # ... and its index there
        self._opened: dict[str | None, tuple[_Sequence, ...]] = {}  # a parent -> the sequences under it
        self._js_paths: dict[str, str] = {}  # a JS-derived id -> its raw path, to derive its children
        self._resolved: set[str] = set()

    def label(self, op_id: str | None, parent_id: str | None = None) -> str:
        """The label of ``op_id``, whose ParentId is ``parent_id``; the id itself if no rule derives it."""
        if op_id is None:
            return "-"
        found = self._labels.get(op_id)
        if found is None:
            if not self._known(parent_id):
                return op_id
            sequences = self._open(parent_id)
            found = self._labels.get(op_id)
            if found is None:
                for sequence in sequences:
                    self._widen(sequence)
                found = self._labels.get(op_id)
                if found is None:
                    return op_id
        if op_id not in self._resolved:
            self._resolved.add(op_id)
            self._hit(self._origin[op_id], self._index[op_id])
        return found

    def _known(self, parent_id: str | None) -> bool:
        """Whether ``parent_id`` is the root or has a label: nothing derives under an unknown parent."""
        if parent_id is None or parent_id in self._resolved:
            return True
        self.label(parent_id)  # a parent named before itself: found among the root's if anywhere
        return parent_id in self._resolved

    def _open(self, parent: str | None) -> tuple[_Sequence, ...]:
        sequences = self._opened.get(parent)
        if sequences is None:
            js_path = "" if parent is None else self._js_paths.get(parent)
            if parent is None:
                sequences = (_Sequence(_ROOT, "", "", 1),)
                base = ""
            else:
                base = self._labels[parent]
                positions = _Sequence(_POSITIONS, parent, base, 0)
                sequences = (positions, _Sequence(_FLAT, parent, base, 0, positions))
            if js_path is not None:
                sequences = (*sequences, _Sequence(_JS, js_path, base, 1))
            self._opened[parent] = sequences
            for sequence in sequences:
                if sequence.kind != _FLAT:  # FLAT derives nothing until a miss widens it or a hit moves it
                    self._derive(sequence, sequence.derived + 2 + AHEAD)
        return sequences

    def _hit(self, sequence: _Sequence, index: int) -> None:
        """``index`` of ``sequence`` was found: derive a little past it (and past its item, for FLAT)."""
        sequence.highest = max(sequence.highest, index)
        self._derive(sequence, index + 1 + AHEAD)
        if sequence.kind == _ITEM:
            flat = sequence.owner
            assert flat is not None and flat.owner is not None
            for owner in (flat, flat.owner):
                owner.highest = max(owner.highest, sequence.index)
                self._derive(owner, sequence.index + 1 + AHEAD)

    def _widen(self, sequence: _Sequence) -> None:
        """A miss under this sequence's parent: derive up to `WINDOW` past the highest index found (a
        no-op when already there, so misses cost nothing more until a hit moves the window)."""
        self._derive(sequence, sequence.highest + 1 + WINDOW)

    def _derive(self, sequence: _Sequence, end: int) -> None:
        """Derive ``sequence`` up to index ``end`` (exclusive)."""
        labels = self._labels
        kind, parent, base = sequence.kind, sequence.parent, sequence.base
        while sequence.derived < end:
            k = sequence.derived
            sequence.derived = k + 1
            if kind == _ROOT:
                op_id, label = child_id(None, k), str(k)
            elif kind == _JS:
                raw = f"{parent}-{k}" if parent else str(k)
                op_id, label = js_id(raw), f"{base}/{k}" if base else str(k)
                self._js_paths[op_id] = raw
            else:
                op_id = branch_id(parent, k)  # for ITEM, hash("{item}-{n}") is the same rule
                label = f"{base}[0]" if k == 0 and kind != _ITEM else f"{base}/{k}"
                if kind == _FLAT:
                    self._derive(_Sequence(_ITEM, op_id, label, 1, sequence, k), 1 + _FLAT_AHEAD)
                    continue
            if op_id not in labels:
                labels[op_id] = label
                self._origin[op_id] = sequence
                self._index[op_id] = k
