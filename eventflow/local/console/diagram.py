"""An operation type's state machine as SVG, drawn on the server from the Mermaid text eventflow writes.

Why server-side SVG and not Mermaid in the page: the console ships without a CDN and without a build step,
so Mermaid would have to be vendored as package data: its browser bundle is a few megabytes of minified
JavaScript (MIT-licensed, so shipping it would be allowed), bigger than all of eventflow, to draw six
diagrams of at most six states each. The diagrams are `machine.diagrams.to_mermaid`'s output (so the page
shows exactly what ``eventflow`` exports), parsed here and laid out in ranks: a state's rank is its distance
from the initial state, states of one rank share a row, an edge that goes up or sideways is drawn as a
curve beside the boxes. Terminal states get a double border, as Mermaid's ``--> [*]`` means.

The result holds only state and trigger names from the definitions, escaped anyway, and the page loads it
as an ``<img>``, where an SVG cannot run script.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from functools import cache
from xml.sax.saxutils import escape

from eventflow.events.enums import OperationType
from eventflow.machine.diagrams import to_mermaid

_EDGE = re.compile(r"\s*(?P<src>\[\*\]|\w+)\s*-->\s*(?P<dst>\[\*\]|\w+)\s*(?::\s*(?P<label>.*))?")

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 118, 34, 40, 70, 30


@dataclass
class StateDiagram:
    """A parsed ``stateDiagram-v2``: states in order of appearance, edges with their merged labels."""

    initial: str | None = None
    states: list[str] = field(default_factory=list)
    edges: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    terminal: set[str] = field(default_factory=set)


def parse_state_diagram(text: str) -> StateDiagram:
    """Read the subset of Mermaid's ``stateDiagram-v2`` that `to_mermaid` writes; another line is an
    error, so a change to the exporter cannot be drawn wrong in silence."""
    lines = text.strip().splitlines()
    if not lines or lines[0].strip() != "stateDiagram-v2":
        raise ValueError("not a stateDiagram-v2")
    diagram = StateDiagram()
    for line in lines[1:]:
        match = _EDGE.fullmatch(line)
        if match is None:
            raise ValueError(f"unsupported state diagram line {line!r}")
        src, dst, label = match["src"], match["dst"], (match["label"] or "").strip()
        for state in (src, dst):
            if state != "[*]" and state not in diagram.states:
                diagram.states.append(state)
        if src == "[*]":
            diagram.initial = dst
        elif dst == "[*]":
            diagram.terminal.add(src)
        else:
            labels = diagram.edges.setdefault((src, dst), [])
            if label and label not in labels:
                labels.append(label)
    return diagram


def _ranks(diagram: StateDiagram) -> dict[str, int]:
    ranks: dict[str, int] = {}
    start = diagram.initial or (diagram.states[0] if diagram.states else None)
    queue = deque([start] if start else [])
    if start:
        ranks[start] = 0
    while queue:
        state = queue.popleft()
        for src, dst in diagram.edges:
            if src == state and dst not in ranks:
                ranks[dst] = ranks[state] + 1
                queue.append(dst)
    deepest = max(ranks.values(), default=-1)
    for state in diagram.states:  # unreachable states: a row of their own at the bottom
        ranks.setdefault(state, deepest + 1)
    return ranks


def render_svg(diagram: StateDiagram, title: str) -> str:
    """The diagram as a standalone SVG document."""
    ranks = _ranks(diagram)
    rows: dict[int, list[str]] = {}
    for state in diagram.states:
        rows.setdefault(ranks[state], []).append(state)
    widest = max((len(row) for row in rows.values()), default=1)
    width = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X + 120  # room for the curves beside the boxes
    top = MARGIN + 36
    where: dict[str, tuple[float, float]] = {}  # the centre of each box
    for rank, row in rows.items():
        row_w = len(row) * BOX_W + (len(row) - 1) * GAP_X
        left = (width - row_w) / 2
        for i, state in enumerate(row):
            where[state] = (left + i * (BOX_W + GAP_X) + BOX_W / 2, top + rank * (BOX_H + GAP_Y) + BOX_H / 2)
    height = top + (max(rows, default=0) + 1) * (BOX_H + GAP_Y) - GAP_Y + MARGIN
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="#fff"/>',
    ]
    if diagram.initial in where:
        x, y = where[diagram.initial]
        out.append(f'<circle cx="{x:.1f}" cy="{MARGIN + 6}" r="7" fill="#333"/>')
        out.append(_line(x, MARGIN + 13, x, y - BOX_H / 2))
    bend = 0
    for (src, dst), labels in diagram.edges.items():
        (x1, y1), (x2, y2) = where[src], where[dst]
        text = escape(" / ".join(labels))
        if ranks[dst] > ranks[src]:  # downwards: a straight line, bottom edge to top edge
            sy, ey = y1 + BOX_H / 2, y2 - BOX_H / 2
            out.append(_line(x1, sy, x2, ey))
            lx, ly = (x1 + x2) / 2, (sy + ey) / 2
        else:  # upwards or sideways: a curve from the top of one box to the bottom of the other, bulging
            bend += 1  # out to alternate sides so that several such edges stay apart
            side = 1 if bend % 2 else -1
            reach = side * (BOX_W / 2 + 14 * ((bend + 1) // 2))
            sx, sy, ex, ey = x1 + side * 20, y1 - BOX_H / 2, x2 + side * 20, y2 + BOX_H / 2
            c1x, c1y, c2x, c2y = sx + reach, sy - GAP_Y / 2, ex + reach, ey + GAP_Y / 2
            if ranks[dst] == ranks[src]:  # same row: leave from the side, arrive at the side
                sy, ey = y1, y2
                c1y = c2y = y1 - GAP_Y
            out.append(
                f'<path d="M{sx:.1f},{sy:.1f} C{c1x:.1f},{c1y:.1f} {c2x:.1f},{c2y:.1f} {ex:.1f},{ey:.1f}" '
                'fill="none" stroke="#888" stroke-dasharray="4 2" marker-end="url(#arrow)"/>'
            )
            lx, ly = (sx + 3 * c1x + 3 * c2x + ex) / 8, (sy + 3 * c1y + 3 * c2y + ey) / 8  # the midpoint
        out.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle" dominant-baseline="middle" '
            f'fill="#1a4d80" paint-order="stroke" stroke="#fff" stroke-width="4">{text}</text>'
        )
    for state in diagram.states:
        x, y = where[state]
        left, upper = x - BOX_W / 2, y - BOX_H / 2
        out.append(
            f'<rect x="{left:.1f}" y="{upper:.1f}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            'fill="#eef3fb" stroke="#335"/>'
        )
        if state in diagram.terminal:
            out.append(
                f'<rect x="{left + 3:.1f}" y="{upper + 3:.1f}" width="{BOX_W - 6}" height="{BOX_H - 6}" '
                'rx="6" fill="none" stroke="#335"/>'
            )
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" dominant-baseline="middle">'
            f"{escape(state)}</text>"
        )
    out.append(
        f'<text x="{MARGIN}" y="{MARGIN + 10}" font-weight="bold" font-size="13">{escape(title)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555" '
        'marker-end="url(#arrow)"/>'
    )


@cache
def machine_svg(op_type: OperationType) -> str:
    """The state machine of ``op_type`` as SVG (drawn once per type; the definitions are fixed)."""
    return render_svg(parse_state_diagram(to_mermaid(op_type)), f"{op_type.value} state machine")
