"""Where a registered function runs, from how it is named: ``NAME=SPEC`` on the command line or in the
``[functions]`` table of a config file.

- ``MODULE:HANDLER``: a Python handler; in a worker process from a bounded pool (the default of
  ``eventflow serve``), or in the service's own process when asked (``--in-process``).
- ``cmd:COMMAND``: any command that speaks the Lambda Runtime API (``npx aws-lambda-ric app.handler``,
  ``python -m awslambdaric app.handler``), started in sandboxes the same way.
- ``http://HOST:PORT``: a remote Lambda Invoke endpoint (SAM's ``start-lambda``, the Runtime Interface
  Emulator).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from eventflow.errors import InvalidInputError
from eventflow.local.functions import Handler
from eventflow.local.remote_invoke import RemoteInvokeRuntime
from eventflow.local.runtime import InProcessRuntime, Runtime
from eventflow.local.sandbox_pool import DEFAULT_SANDBOXES, SandboxRuntime

COMMAND_PREFIX = "cmd:"


@dataclass(frozen=True)
class RuntimeOptions:
    """How `runtime_for` builds runtimes: the service's URL (what sandboxes checkpoint to), whether
    Python handlers run in process, and the bound on sandboxes per function."""

    endpoint: str
    in_process: bool = False
    max_sandboxes: int = DEFAULT_SANDBOXES


def runtime_for(
    name: str,
    spec: str,
    options: RuntimeOptions,
    load: Callable[[str], Handler],
    directory: str | None = None,
) -> Runtime:
    """The runtime of function ``name`` as ``spec`` describes it; ``load`` imports a ``MODULE:HANDLER``
    for in-process use; ``directory`` is the sandboxes' working directory (default: the current one)."""
    if spec.startswith(COMMAND_PREFIX):
        command = spec[len(COMMAND_PREFIX) :].strip()
        if not command:
            raise InvalidInputError(f"function {name!r}: cmd: needs a command")
        return SandboxRuntime.command(
            name, command, options.endpoint, max_sandboxes=options.max_sandboxes, cwd=directory
        )
    if spec.startswith(("http://", "https://")):
        return RemoteInvokeRuntime(name, spec)
    if options.in_process:
        return InProcessRuntime(load(spec))
    check_importable(spec, directory)
    return SandboxRuntime.python(
        name, spec, options.endpoint, max_sandboxes=options.max_sandboxes, cwd=directory
    )


def check_importable(spec: str, directory: str | None = None) -> None:
    """Refuse a ``MODULE:HANDLER`` whose module cannot be found, before any sandbox starts (without
    importing it: the handler's module runs only in its sandboxes)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise InvalidInputError(
            f"expected MODULE:HANDLER, cmd:COMMAND or http://HOST:PORT (e.g. app.flows:handler), got {spec!r}"
        )
    root = os.path.abspath(directory or os.getcwd())
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)
    try:
        found = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        found = None
    finally:
        if added:
            sys.path.remove(root)
    if found is None:
        raise InvalidInputError(f"cannot find module {module_name!r} (from {spec!r})")
