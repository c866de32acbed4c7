"""Tools for testing durable handlers: readable operation labels, checkpoint recording and rendering."""

from eventflow.testing.labels import IdLabeler
from eventflow.testing.recording import RecordingBackend
from eventflow.testing.render import render_updates

__all__ = ["IdLabeler", "RecordingBackend", "render_updates"]
