"""The local web console: executions, their timelines, events and state machines, and actions, served by
`eventflow serve` at ``/`` next to the durable-execution API (see `app.ConsoleApp`).

No build step and no CDN: the page is one HTML file, one script and one stylesheet shipped as package data
(``static/``), and the state-machine diagrams are SVG drawn on the server (`diagram`).
"""

from __future__ import annotations

from typing import Any

from eventflow.local.console.app import ConsoleApp

__all__ = ["ConsoleApp", "with_console"]


def with_console(api_app: Any) -> ConsoleApp:
    """``api_app`` (a `DurableHttpApp`) with the console mounted in front of it."""
    return ConsoleApp(api_app)
