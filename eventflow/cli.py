"""The ``eventflow`` command line (also ``python -m eventflow``): run durable functions on the local service.

    eventflow run app.flows:handler --input '{"id": 7}'    # run to the end, printing progress and history
    eventflow history ARN                                  # the history of an execution, as a table or tree
    eventflow callback succeed ID --result '"ok"'          # answer a callback (fail / heartbeat too)
    eventflow run app.flows:handler --resume ARN           # continue an execution after an answer
    eventflow executions                                   # list executions
    eventflow stop ARN
    eventflow pause ARN / resume ARN / delete ARN          # through the running service, if there is one
    eventflow serve --function orders=app.flows:handler   # the Lambda durable-execution API over HTTP

Executions are kept in a SQLite file (``--db``, default ``$EVENTFLOW_DB`` or ``./.eventflow.db``) so they
survive between commands; ``run`` skips waits on a virtual clock unless ``--real-clock`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from eventflow.errors import DurableError, InvalidInputError
from eventflow.events.enums import ExecutionStatus
from eventflow.events.history import Event
from eventflow.events.wire import ErrorObject
from eventflow.local.clock import Clock, RealClock, VirtualClock
from eventflow.local.engine import LocalService
from eventflow.local.model import LocalExecution
from eventflow.local.sqlite_store import SqliteStore, StoreInUseError
from eventflow.local.store import MemoryStore, Store
from eventflow.testing.commands import register as register_toolkit
from eventflow.testing.labels import IdLabeler
from eventflow.views import execution_tree, history_line, history_table

DEFAULT_DB = ".eventflow.db"


class CliError(Exception):
    """A problem with what the user asked for: printed without a traceback."""

    def __init__(self, message: str, code: int = 2) -> None:
        self.code = code
        super().__init__(message)


def load_handler(spec: str) -> tuple[str, Callable[..., Any]]:
    """``MODULE:ATTRIBUTE`` -> (attribute name, the callable), imported as `eventflow replay --handler`
    imports it (`eventflow.testing.commands.load_handler`; the current directory is importable)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise CliError(f"expected MODULE:HANDLER (e.g. app.flows:handler), got {spec!r}")
    from eventflow.testing.commands import load_handler as load

    try:
        target = load(spec)
    except InvalidInputError as exc:
        raise CliError(str(exc)) from None
    return attribute.split(".")[-1], target


def parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"{what} is not valid JSON: {exc}") from None


def open_service(
    args: argparse.Namespace, clock: Clock | None = None, out: TextIO | None = None, concurrency: int = 1
) -> LocalService:
    store: Store = MemoryStore() if getattr(args, "memory", False) else SqliteStore(args.db)
    on_event = None
    if out is not None:

        labelers: dict[str, IdLabeler] = {}
        starts: dict[str, datetime | None] = {}

        def on_event(arn: str, event: Event) -> None:
            start = starts.setdefault(arn, event.event_timestamp)
            line = history_line(event, labelers.setdefault(arn, IdLabeler()), start)
            print(f"  {line}", file=out, flush=True)

    return LocalService(clock or RealClock(), store=store, on_event=on_event, concurrency=concurrency)


_LOGGED = ("Execution", "InvocationCompleted", "Callback")  # what serve logs at INFO (event type prefixes)


def serve_event_logger(payloads: bool) -> Callable[[str, Event], None]:
    """``on_event`` for `eventflow serve`: each execution's start and end, each invocation, each callback
    event at INFO on the ``eventflow.serve`` logger; the details (payloads, errors) only if ``payloads``."""
    import logging

    log = logging.getLogger("eventflow.serve")

    def on_event(arn: str, event: Event) -> None:
        kind = str(event.event_type or "")
        if not kind.startswith(_LOGGED) or not log.isEnabledFor(logging.INFO):
            return
        execution = arn.rsplit("/", 1)[-1]
        name = f" {event.name!r}" if event.name else ""
        details = ""
        if payloads:
            from eventflow.views import _summary

            details = f" {_summary(event)}".rstrip()
        log.info("%s %s%s%s", execution, kind, name, details)

    return on_event


# -- rendering ---------------------------------------------------------------------------------------------


def print_history(events: Sequence[Event], out: TextIO, *, tree: bool = False) -> None:
    """The history as a table (`eventflow.views.history_table`) or the operations as a tree."""
    print(execution_tree(events) if tree else history_table(events), file=out)


def print_outcome(execution: LocalExecution, out: TextIO) -> None:
    print(f"execution {execution.arn}", file=out)
    print(f"status    {execution.status.value}", file=out)
    if execution.status is ExecutionStatus.SUCCEEDED:
        print(f"result    {execution.result}", file=out)
    elif execution.error is not None:
        print(f"error     {json.dumps(execution.error.to_wire())}", file=out)


# -- commands ---------------------------------------------------------------------------------------------


_CALLBACK_ID_HELP = "the callback's id; one that starts with '-' goes last, after '--'"


def require_durable(spec: str, handler: Callable[..., Any]) -> None:
    """Refuse an eventflow handler that was not decorated: called with the service's invocation input as
    its event and a Lambda context as its ``ctx``, it would fail in a confusing way. Recognised by its
    second parameter (annotated ``DurableContext``, or named ``ctx``); a function that speaks the
    protocol itself (``(event, context)`` returning ``{"Status": ...}``) is a durable handler too."""
    import inspect

    from eventflow.handler import DurableHandler

    if isinstance(handler, DurableHandler) or hasattr(handler, "__wrapped__"):  # ours, or another decorator
        return
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return
    if len(params) < 2:
        return
    second = params[1]
    if second.name != "ctx" and "DurableContext" not in str(second.annotation):
        return
    raise CliError(
        f"{spec} is not a durable handler: decorate it with @durable_execution (from eventflow import "
        "durable_execution)"
    )


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    function_name, handler = load_handler(args.handler)
    require_durable(args.handler, handler)
    function_name = args.function_name or function_name
    payload = None
    if args.input is not None:
        parse_json(args.input, "--input")
        payload = args.input
    clock: Clock = RealClock() if args.real_clock else VirtualClock(datetime.now(UTC))
    service = open_service(args, clock, out)
    service.register(function_name, handler)
    with _sole_writer(service, "eventflow run"):
        return _run(args, service, function_name, payload, out)


def _run(
    args: argparse.Namespace, service: LocalService, function_name: str, payload: str | None, out: TextIO
) -> int:
    if args.resume:
        execution = service.get(args.resume)
        print(f"resuming {execution.arn}", file=out)
    else:
        execution = service.start_execution(
            function_name, name=args.name, input_payload=payload, timeout_seconds=args.timeout
        )
        print(f"started {execution.arn}", file=out)
    from eventflow.testing.harness import answer_would_cancel

    # On the virtual clock, time stops before a callback's timeout: the user answers first (or --advance).
    if args.advance is not None and not args.real_clock:
        target = service.clock.now() + timedelta(seconds=args.advance)
        service.run(execution.arn, hold=lambda due, key: due > target)
        if execution.running and service.clock.now() < target and isinstance(service.clock, VirtualClock):
            service.clock.advance_to(target)
    service.run(execution.arn, hold=answer_would_cancel(service))
    print(file=out)
    print_outcome(execution, out)
    if execution.running:
        now = service.clock.now()
        for record in execution.callbacks.values():
            op = execution.operations[record.op_id]
            if op.status != "STARTED":
                continue
            deadline = "" if record.timeout_at is None else (
                f" (times out at +{(record.timeout_at - now).total_seconds():g} s)")
            name = f" {op.name!r}" if op.name else ""
            print(f"waiting   callback {record.callback_id}{name}{deadline}", file=out)
        print(
            f"answer with `eventflow callback succeed ID --result JSON`, then "
            f"`eventflow run {args.handler} --resume {execution.arn}`",
            file=out,
        )
    print(file=out)
    print_history(service.history(execution.arn), out)
    return 0 if execution.status in (ExecutionStatus.SUCCEEDED, ExecutionStatus.RUNNING) else 1


def cmd_history(args: argparse.Namespace, out: TextIO) -> int:
    service = open_service(args)
    events = service.history(args.arn)
    if args.json:  # the shape `eventflow view --json` writes and reads: GetDurableExecutionHistory's
        from eventflow.testing.histories import dumps_json

        out.write(dumps_json(events))
    else:
        print_history(events, out, tree=args.tree)
    return 0


def cmd_callback(args: argparse.Namespace, out: TextIO) -> int:
    if args.action == "succeed" and args.result is not None:
        parse_json(args.result, "--result")
    endpoint = _writer_endpoint(args)
    if endpoint is not None:
        with _remote_errors(endpoint):
            lam = _client(endpoint)
            if args.action == "succeed":
                result = (args.result or "").encode()
                lam.send_durable_execution_callback_success(CallbackId=args.callback_id, Result=result)
            elif args.action == "fail":
                wire = {"ErrorType": args.error_type, "ErrorMessage": args.error_message}
                lam.send_durable_execution_callback_failure(CallbackId=args.callback_id, Error=wire)
            else:
                lam.send_durable_execution_callback_heartbeat(CallbackId=args.callback_id)
        print(f"callback {args.callback_id}: {args.action} sent to {endpoint}", file=out)
        return 0
    service = open_service(args)
    if args.action == "succeed":
        service.send_callback_success(args.callback_id, args.result)
    elif args.action == "fail":
        error = ErrorObject(error_type=args.error_type, error_message=args.error_message)
        service.send_callback_failure(args.callback_id, error)
    else:
        service.send_callback_heartbeat(args.callback_id)
    print(f"callback {args.callback_id}: {args.action} sent", file=out)
    return 0


def cmd_executions(args: argparse.Namespace, out: TextIO) -> int:
    service = open_service(args)
    # RUNNING with no live process on the database: nothing moves it on until someone resumes it.
    owner = service.store.owner() if isinstance(service.store, SqliteStore) else None
    rows, _ = service.list_executions(args.function, max_items=10**9)
    print(f"{'status':<10} {'started':<20} {'function':<20} {'name':<38} arn", file=out)
    idle = 0
    for row in rows:
        started = row.started_at.strftime("%Y-%m-%d %H:%M:%S")
        status = row.status.value
        if row.status is ExecutionStatus.RUNNING and owner is None:
            status, idle = status + "*", idle + 1
        print(f"{status:<10} {started:<20} {row.function_name:<20} {row.name:<38} {row.arn}", file=out)
    if idle:
        print(
            f"\n* {idle} running execution(s) with no process driving them: resume one with "
            "`eventflow run MODULE:HANDLER --resume ARN`, or start `eventflow serve` on this database",
            file=out,
        )
    return 0


def cmd_stop(args: argparse.Namespace, out: TextIO) -> int:
    endpoint = _writer_endpoint(args)
    if endpoint is not None:
        error = {"ErrorType": "Stopped", "ErrorMessage": args.reason} if args.reason else {}
        with _remote_errors(endpoint):
            answer = _client(endpoint).stop_durable_execution(DurableExecutionArn=args.arn, Error=error)
        print(f"stopped {args.arn} at {answer['StopTimestamp'].isoformat()} (via {endpoint})", file=out)
        return 0
    service = open_service(args)
    error_object = ErrorObject(error_type="Stopped", error_message=args.reason) if args.reason else None
    when = service.stop(args.arn, error_object)
    print(f"stopped {args.arn} at {when.isoformat()}", file=out)
    return 0


def cmd_pause(args: argparse.Namespace, out: TextIO) -> int:
    """``eventflow pause|resume|delete ARN``: through the service running on the database, if one does."""
    endpoint = _writer_endpoint(args)
    if endpoint is not None:
        with _remote_errors(endpoint):
            lam = _client(endpoint)
            if args.command == "pause":
                params: dict[str, Any] = {"ExecutionTimeoutPaused": not args.keep_timeout_running}
                if args.reason is not None:
                    params["Reason"] = args.reason
                lam.pause_durable_execution(DurableExecutionArn=args.arn, **params)
            elif args.command == "resume":
                extra = {} if args.reason is None else {"Reason": args.reason}
                lam.resume_durable_execution(DurableExecutionArn=args.arn, **extra)
            else:
                lam.delete_durable_execution(DurableExecutionArn=args.arn)
        print(f"{_DONE[args.command]} {args.arn} (via {endpoint})", file=out)
        return 0
    service = open_service(args)
    try:
        if args.command == "pause":
            service.pause(args.arn, reason=args.reason, timeout_paused=not args.keep_timeout_running)
        elif args.command == "resume":
            service.resume(args.arn, reason=args.reason)
        else:
            service.delete(args.arn)
    finally:
        service.store.close()
    print(f"{_DONE[args.command]} {args.arn}", file=out)
    return 0


_DONE = {"pause": "paused", "resume": "resumed", "delete": "deleted"}


# -- one writer per database: a running service takes every change over HTTP --------------------------------


@contextlib.contextmanager
def _sole_writer(service: LocalService, command: str, server: Any = None) -> Iterator[None]:
    """Record this process as the database's writer while the block runs, with the HTTP endpoint other
    commands reach it at (``server``; without one, a request-only server is started here), so `eventflow
    callback` and `eventflow stop` from another shell go through it instead of behind its back. Refuses,
    naming it, if another live process holds the database. Closes the store at the end."""
    from eventflow.local.http import LocalHttpServer

    store = service.store
    own_server = None
    try:
        if isinstance(store, SqliteStore):
            if server is None:
                own_server = server = LocalHttpServer(service, drive=False).start()
            try:
                store.claim(command, server.url)
            except StoreInUseError as exc:
                if own_server is None:
                    server.server_close()  # the caller's server never started serving
                raise CliError(f"{exc}; stop it first, or use another --db", 1) from None
        try:
            yield
        finally:
            if isinstance(store, SqliteStore):
                store.release()
    finally:
        if own_server is not None:
            own_server.stop()
        store.close()


def _writer_endpoint(args: argparse.Namespace) -> str | None:
    """Where a change must go: ``--endpoint``, else the endpoint of the service running on the database
    (None: nothing runs on it, change the file directly)."""
    if args.endpoint:
        return str(args.endpoint)
    store = SqliteStore(args.db)
    try:
        owner = store.owner()
    finally:
        store.close()
    if owner is None:
        return None
    if owner.endpoint is None:
        raise CliError(f"{args.db} is in use by {owner.describe()}, which takes no requests", 1)
    return owner.endpoint


def _client(endpoint: str) -> Any:
    from eventflow.local.client import lambda_client

    return lambda_client(endpoint)


@contextlib.contextmanager
def _remote_errors(endpoint: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise CliError(f"{error.get('Code')}: {error.get('Message') or exc}", 1) from None
    except BotoCoreError as exc:
        raise CliError(f"cannot reach the service at {endpoint}: {exc}", 1) from None


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    from eventflow.local.function_specs import RuntimeOptions
    from eventflow.local.http import LocalHttpServer

    if args.concurrency < 1:
        raise CliError(f"--concurrency must be at least 1, got {args.concurrency}")
    import logging

    clock = VirtualClock(datetime.now(UTC)) if args.virtual_clock else RealClock()
    service = open_service(args, clock, concurrency=args.concurrency)
    if not logging.getLogger().handlers:  # the application's own logging setup wins
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    service.on_event = serve_event_logger(args.log_payloads)
    rows = service.list_executions(None, max_items=10**9)[0]
    running = [row for row in rows if row.status is ExecutionStatus.RUNNING]
    if running:
        logging.getLogger("eventflow.serve").info(
            "recovered %d running execution(s) from %s; they carry on", len(running), args.db)
    server: LocalHttpServer | None = None
    try:
        server = LocalHttpServer(service, args.host, args.port)
        options = RuntimeOptions(_local_url(server.url), args.in_process, args.concurrency)

        def load(spec: str) -> Callable[..., Any]:
            return load_handler(spec)[1]

        configured = _configured_functions(args.config) if args.config else []
        _refuse_duplicate_names([c[0] for c in configured], args.function or ())
        for name, spec, durable, timeout, limit, directory in configured:
            service.register(
                name,
                _runtime(name, spec, options, load, directory),
                durable=durable,
                timeout_seconds=timeout,
                invocation_timeout_seconds=limit,
            )
        for item in args.function or ():
            name, sep, spec = item.partition("=")
            if not sep or not name:
                raise CliError(
                    f"--function takes NAME=SPEC (MODULE:HANDLER, cmd:COMMAND or URL), got {item!r}")
            service.register(name, _runtime(name, spec, options, load, None), durable=not args.plain)
    except BaseException:
        if server is not None:
            server.server_close()
        service.close_runtimes()
        service.store.close()
        raise
    try:
        # Stopping the server only stops the service: the store is ours to close (`_sole_writer` does).
        with _sole_writer(service, "eventflow serve", server):
            print(
                f"eventflow local service on {server.url} "
                f"(functions: {', '.join(service.functions) or 'none'})",
                file=out,
                flush=True,
            )
            with contextlib.suppress(KeyboardInterrupt):
                _stop_on_sigterm()
                server.run()
    finally:
        server.server_close()
        service.close_runtimes()
    return 0


def _refuse_duplicate_names(configured: Sequence[str], options: Sequence[str]) -> None:
    """One function per name: a name given twice (in --function, or in both it and --config) is refused
    rather than the later silently replacing the earlier."""
    seen = set(configured)
    for item in options:
        name = item.partition("=")[0]
        if name in seen:
            raise CliError(f"function {name!r} is given twice (--function / --config): names must be unique")
        seen.add(name)


def _stop_on_sigterm() -> None:
    """Let SIGTERM stop serve as Ctrl-C does, so its worker processes are ended on the way out."""
    import signal
    import threading

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _runtime(name: str, spec: str, options: Any, load: Callable[[str], Any], directory: str | None) -> Any:
    """The runtime `function_specs.runtime_for` builds, its refusals as a `CliError`."""
    from eventflow.local.function_specs import runtime_for

    try:
        return runtime_for(name, spec, options, load, directory)
    except DurableError as exc:
        raise CliError(str(exc)) from None


def _local_url(url: str) -> str:
    """The service's URL as its sandboxes reach it (a wildcard bind is reached on loopback)."""
    return url.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:")


ConfiguredFunction = tuple[str, str, bool, int | None, float | None, str | None]
"""``(name, spec, durable, timeout_seconds, invocation_timeout_seconds, directory)``."""


def _configured_functions(path: str) -> list[ConfiguredFunction]:
    """The functions of a TOML config file::

        [functions]
        orders = "app.flows:handler"                      # durable, in a worker process
        greeter = "cmd:npx aws-lambda-ric index.handler"  # any language, through the Runtime API
        remote = "http://127.0.0.1:3001"                  # a Lambda Invoke endpoint

        [functions.tax]
        handler = "app.tax:handler"
        durable = false                                   # a plain Lambda function
        timeout_seconds = 60                              # execution timeout
        invocation_timeout_seconds = 30                   # Lambda's function timeout, per invocation
        directory = "services/tax"                        # its working directory (from the file's)
    """
    import tomllib

    try:
        with open(path, "rb") as file:
            config = tomllib.load(file)
    except OSError as exc:
        raise CliError(f"cannot read config file {path!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CliError(f"config file {path!r} is not valid TOML: {exc}") from None
    functions = config.get("functions")
    if not isinstance(functions, dict) or not functions:
        raise CliError(f"config file {path!r} has no [functions] table")
    base = os.path.dirname(os.path.abspath(path))
    found: list[ConfiguredFunction] = []
    for name, entry in functions.items():
        if isinstance(entry, str):
            found.append((name, entry, True, None, None, None))
            continue
        handler = entry.get("handler") if isinstance(entry, dict) else None
        durable = entry.get("durable", True) if isinstance(entry, dict) else None
        timeout = entry.get("timeout_seconds") if isinstance(entry, dict) else None
        limit = entry.get("invocation_timeout_seconds") if isinstance(entry, dict) else None
        directory = entry.get("directory") if isinstance(entry, dict) else None
        if (
            not isinstance(handler, str)
            or not isinstance(durable, bool)
            or not (timeout is None or (isinstance(timeout, int) and timeout > 0))
            or not (limit is None or (type(limit) in (int, float) and 0 < limit <= 900))
            or not (directory is None or isinstance(directory, str))
        ):
            raise CliError(
                f"config file {path!r}: functions.{name} needs handler = \"MODULE:HANDLER\" (or "
                "\"cmd:COMMAND\" or \"http://HOST:PORT\"), and optionally durable = true|false, "
                "timeout_seconds = a positive integer, invocation_timeout_seconds = a number of seconds "
                "over 0 and at most 900 and directory = a path"
            )
        if directory is not None:
            directory = os.path.join(base, directory)
            if not os.path.isdir(directory):
                raise CliError(f"config file {path!r}: functions.{name}: no directory {directory!r}")
        found.append((name, handler, durable, timeout, limit, directory))
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eventflow", description="Run durable functions on a local service."
    )
    parser.add_argument("--db", default=os.environ.get("EVENTFLOW_DB", DEFAULT_DB), help="SQLite file")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a durable handler to the end")
    run.add_argument("handler", metavar="MODULE:HANDLER")
    run.add_argument("--input", help="the event, as JSON")
    run.add_argument("--name", help="DurableExecutionName (idempotent start)")
    run.add_argument("--function-name", help="the function name to register (default: the handler's name)")
    run.add_argument("--timeout", type=int, help="execution timeout in seconds")
    run.add_argument("--resume", metavar="ARN", help="continue this execution instead of starting one")
    run.add_argument("--real-clock", action="store_true", help="really wait instead of skipping waits")
    run.add_argument(
        "--advance",
        type=float,
        metavar="SECONDS",
        help="on the virtual clock, let this much time pass first (callback timeouts included); without it "
        "time stops before any timer an answer would cancel",
    )
    run.add_argument("--memory", action="store_true", help="keep nothing: use the in-memory store")
    run.set_defaults(func=cmd_run)

    hist = commands.add_parser("history", help="show an execution's history")
    hist.add_argument("arn")
    shape = hist.add_mutually_exclusive_group()
    shape.add_argument("--tree", action="store_true", help="indent events under their parent context")
    shape.add_argument("--json", action="store_true", help="the events as the API returns them")
    hist.set_defaults(func=cmd_history)

    remote = argparse.ArgumentParser(add_help=False)
    remote.add_argument(
        "--endpoint",
        metavar="URL",
        help="send the change to the service at URL (default: the service running on --db, if any)",
    )
    callback = commands.add_parser("callback", help="answer a callback")
    actions = callback.add_subparsers(dest="action", required=True)
    succeed = actions.add_parser("succeed", parents=[remote])
    succeed.add_argument("callback_id", help=_CALLBACK_ID_HELP)
    succeed.add_argument("--result", help="the result, as JSON")
    fail = actions.add_parser("fail", parents=[remote])
    fail.add_argument("callback_id", help=_CALLBACK_ID_HELP)
    fail.add_argument("--error-type", default="CallbackFailed")
    fail.add_argument("--error-message", default="")
    heartbeat = actions.add_parser("heartbeat", parents=[remote])
    heartbeat.add_argument("callback_id", help=_CALLBACK_ID_HELP)
    callback.set_defaults(func=cmd_callback)

    executions = commands.add_parser("executions", help="list executions")
    executions.add_argument("--function", help="only this function's")
    executions.set_defaults(func=cmd_executions)

    stop = commands.add_parser("stop", help="stop a running execution", parents=[remote])
    stop.add_argument("arn")
    stop.add_argument("--reason", help="recorded as the stop error's message")
    stop.set_defaults(func=cmd_stop)

    pause = commands.add_parser(
        "pause", help="pause a running execution: it runs no code until resumed", parents=[remote]
    )
    pause.add_argument("arn")
    pause.add_argument("--reason", help="recorded in the ExecutionPaused event")
    pause.add_argument(
        "--keep-timeout-running",
        action="store_true",
        help="let the execution timeout run on while paused (default: it stands still)",
    )
    pause.set_defaults(func=cmd_pause)
    resume = commands.add_parser(
        "resume", help="resume a paused execution from its last checkpoint", parents=[remote]
    )
    resume.add_argument("arn")
    resume.add_argument("--reason", help="recorded in the ExecutionResumed event")
    resume.set_defaults(func=cmd_pause)
    delete = commands.add_parser(
        "delete", help="delete an ended execution and its history", parents=[remote]
    )
    delete.add_argument("arn")
    delete.set_defaults(func=cmd_pause)

    serve = commands.add_parser("serve", help="serve the Lambda durable-execution API over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=9000, help="port to listen on (default 9000)")
    serve.add_argument(
        "--function",
        action="append",
        metavar="NAME=SPEC",
        help="repeatable; SPEC is MODULE:HANDLER (a Python handler in worker processes), cmd:COMMAND (any "
        "language, through the Lambda Runtime API) or http://HOST:PORT (a Lambda Invoke endpoint)",
    )
    serve.add_argument("--config", metavar="FILE", help="a TOML file with a [functions] table")
    serve.add_argument("--plain", action="store_true", help="the --function handlers are not durable")
    serve.add_argument("--memory", action="store_true", help="keep nothing: use the in-memory store")
    serve.add_argument("--virtual-clock", action="store_true", help="skip waits instead of waiting")
    serve.add_argument(
        "--log-payloads",
        action="store_true",
        help="log each event's details (payloads, errors) too; by default only what happened is logged",
    )
    serve.add_argument(
        "--in-process",
        action="store_true",
        help="run MODULE:HANDLER functions in the service's own process (a crash takes the service down)",
    )
    serve.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="invocations running at once, and worker processes per function (default 8)",
    )
    serve.set_defaults(func=cmd_serve)
    register_toolkit(commands)  # replay, view, audit, machines (eventflow.testing.commands)
    _accept_db_anywhere(commands)
    return parser


def _accept_db_anywhere(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``--db`` after the subcommand too (``eventflow history ARN --db f.db``); given there, it wins."""
    for sub in commands.choices.values():
        nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        for action in nested:  # eventflow callback succeed ... --db f.db
            _accept_db_anywhere(action)
        if not nested and not any("--db" in a.option_strings for a in sub._actions):
            sub.add_argument("--db", default=argparse.SUPPRESS, help="SQLite file (as before the command)")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args, out)
    except CliError as exc:
        print(f"eventflow: error: {exc}", file=sys.stderr)
        return exc.code
    except DurableError as exc:  # unknown ARN or callback, refused request, ...
        print(f"eventflow: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `eventflow history ARN | head`: the reader left, which is no error
        if out is sys.stdout:  # stop the interpreter's final flush from raising again
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 0
    return result
