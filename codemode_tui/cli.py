"""The ``codemode-tui`` command.

With no sub-command it opens the playground.  Every sub-command drives the
engine through :class:`~codemode_tui.workspace.Workspace`; ``--config FILE``
uses an ``mcpServers`` file in place of the saved configuration.  Progress goes
to stderr; ``--json`` prints machine-readable output on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .config import ConfigError, MCPServerConfig
from .snippets.model import SnippetError
from .terminal_text import escape_c1, sanitized_output, strip_controls

#: Defaults shown in ``serve --help``; kept here so the help needs no engine import.
DEFAULT_MAX_SESSIONS = 8
DEFAULT_SESSION_IDLE_TIMEOUT = 600.0
DEFAULT_ANSWER_CHARS = 20_000
TOKEN_ENV = "CODEMODE_TUI_SERVE_TOKEN"

if TYPE_CHECKING:
    from .workspace import Workspace

Handler = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A command that cannot do what was asked (an unknown run, a damaged file): one line, exit 2."""


def _print_json(data: Any) -> None:
    print(escape_c1(json.dumps(data, indent=2, ensure_ascii=False, default=str)))


def _err(message: str) -> None:
    print(strip_controls(message), file=sys.stderr)


def _workspace(args: argparse.Namespace) -> Workspace:
    from .workspace import Workspace  # the engine loads only for commands that use it

    workspace = Workspace(args.config)
    if workspace.load_error is not None:
        raise ConfigError(str(workspace.load_error))
    return workspace


async def _known_tools(workspace: Workspace, *, refresh: bool = False) -> None:
    """Every enabled server's tools: from the tool cache (no server started), discovering only the
    servers it has not got, or every server with ``refresh``."""
    if not refresh:
        cached = workspace.load_cached_tools()
        registry = workspace.registry
        missing = [n for n in registry.server_names if registry.server_config(n).enabled and n not in cached]
        if cached:
            oldest = max(entry.age for entry in cached.values())
            _err(f"tools of {len(cached)} server(s) from the cache ({_age(oldest)} old; --refresh connects)")
        if not missing:
            return
        await _discover(workspace, missing)
        return
    await _discover(workspace)


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


async def _discover(workspace: Workspace, servers: list[str] | None = None) -> None:
    outcomes = await workspace.start(servers)
    for outcome in outcomes.values():
        if outcome.ok:
            _err(f"{outcome.server}: {len(outcome.tools)} tools")
        else:
            _err(f"{outcome.server}: failed: {outcome.error}")


# -- playground and demo server --------------------------------------------------


def cmd_tui(args: argparse.Namespace) -> int:
    from .tui.app import run_app  # imported here: the engine never loads Textual

    options: dict[str, Any] = {}  # only what was given, so an older run_app keeps working
    if args.playground_serve:
        options["serve"] = True
    if args.playground_port is not None:
        if not args.playground_serve:
            raise CommandError("--port is the port of --serve; add --serve")
        options["port"] = args.playground_port
    if args.playground_policy is not None:
        _load_policy(args.playground_policy)  # a bad file is one line here, not a crash in the app
        options["policy"] = args.playground_policy
    return run_app(config_path=args.config, **options)


def cmd_demo_server(args: argparse.Namespace) -> int:
    from .demo_server import main as serve_demo

    serve_demo(http_port=args.http, host=args.host)
    return 0


# -- servers ---------------------------------------------------------------------


def cmd_servers_list(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    rows = [
        {"name": c.name, "transport": c.transport, "enabled": c.enabled, "target": c.summary()}
        for c in workspace.servers.values()
    ]
    if args.json:
        _print_json(rows)
    else:
        for row in rows:
            state = "" if row["enabled"] else "  (disabled)"
            print(f"{row['name']:<20} {row['transport']:<6} {row['target']}{state}")
    return 0


def _parse_pairs(items: Sequence[str], what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{what} {item!r} must look like NAME=VALUE")
        pairs[key] = value
    return pairs


def cmd_servers_add(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    is_url = "://" in args.target or args.transport in ("http", "sse")
    command, url = (None, args.target) if is_url else (args.target, None)
    try:
        config = MCPServerConfig(
            name=args.name,
            transport=args.transport,
            command=command,
            args=list(args.args),
            url=url,
            env=_parse_pairs(args.env, "--env"),
            headers=_parse_pairs(args.header, "--header"),
        )
    except ValueError as exc:
        raise ConfigError(str(exc).split("\n", 1)[-1].strip(), server=args.name) from None
    workspace.add_server(config, replace=args.replace)
    _err(f"saved server {args.name!r} to {workspace.config_path}")
    return 0


def cmd_servers_remove(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    workspace.remove_server(args.name)
    _err(f"removed server {args.name!r}")
    return 0


def cmd_servers_import(args: argparse.Namespace) -> int:
    from .config import parse_input_values

    workspace = _workspace(args)
    inputs = parse_input_values(args.input)
    report = workspace.import_servers(
        Path(args.file), replace=args.replace, inputs=inputs, save_inputs=args.save_inputs
    )
    if args.json:
        _print_json(report.as_dict())
    else:
        _err(f"added: {', '.join(report.added) or 'none'}")
        if report.replaced:
            _err(f"replaced: {', '.join(report.replaced)}")
        if report.conflicts:
            _err(f"kept existing (use --replace to overwrite): {', '.join(report.conflicts)}")
        for name, reason in report.failed.items():
            _err(f"error: not imported: {name}: {reason}")
        for spec in report.missing_inputs:
            about = f" ({spec.description})" if spec.description else ""
            _err(f"missing input {spec.id!r}{about}: give --input {spec.id}=VALUE")
        for name, variables in report.needs_env.items():
            _err(f"{name}: set {', '.join(variables)} before it connects")
    # One bad entry does not stop the others; the exit code still says that something was left out.
    return 1 if report.failed else 0


def cmd_servers_export(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    workspace.export_servers(Path(args.file))
    _err(f"wrote {len(workspace.servers)} servers to {args.file}")
    return 0


# -- tools -----------------------------------------------------------------------


def cmd_tools(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with _workspace(args) as workspace:
            await _known_tools(workspace, refresh=args.refresh)
            tools = workspace.registry.list_tools(args.server)
            if args.json:
                _print_json([tool.to_dict() for tool in tools])
            else:
                for tool in tools:
                    first = (tool.description or "").strip().splitlines()[:1]
                    print(f"{tool.qualified_name:<40} {first[0] if first else ''}")
            return 0

    return asyncio.run(go())


def cmd_search(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with _workspace(args) as workspace:
            await _known_tools(workspace, refresh=args.refresh)
            answer = workspace.meta.search_tools(args.query, server=args.server, limit=args.limit)
            if args.json:
                _print_json(answer)
            else:
                for hit in answer["tools"]:
                    print(f"{hit['score']:7.2f}  {hit['name']:<40} {hit['description']}")
                if not answer["tools"]:
                    _err(f"no tool matches {args.query!r}")
            return 0

    return asyncio.run(go())


# -- running code --------------------------------------------------------------------


def _print_run(result: Any, *, as_json: bool, filename: str = "<code>") -> int:
    from .snippets.skill_runtime import print_result

    if not as_json:
        for diagnostic in result.diagnostics:  # before the output: they explain it
            _err(diagnostic.format("<stdin>" if filename == "-" else filename))
    print_result(result, as_json=as_json)
    if not as_json:
        calls = result.trace
        failed = sum(1 for call in calls if call.ok is False)
        summary = f"{len(calls)} tool call{'s' * (len(calls) != 1)}" + (f", {failed} failed" if failed else "")
        notes = f"; {', '.join(result.notes)}" if result.notes else ""
        status = "ok" if result.success else "error"
        _err(f"-- {status} in {result.duration:.2f} s, {summary}{notes}")
    return 0 if result.success else 1


def _read_code(name: str) -> str | None:
    """The text of a code file the user named, or ``None`` after saying why it cannot be read.

    Read through :func:`~codemode_tui.files.read_user_file`, so a FIFO, a device
    such as ``/dev/zero`` or a huge file is an error, never a hang or a memory blow-up.
    """
    from .files import read_user_file

    try:
        return read_user_file(Path(name), what="Python file").decode("utf-8")
    except UnicodeDecodeError:
        _err(f"error: cannot read {name}: it is not UTF-8 text")
    except OSError as exc:
        _err(f"error: cannot read {name}: {exc.strerror or exc}")
    return None


def _load_policy(path: Path) -> Any:
    """The ``ToolPolicy`` in ``path``; a missing or bad file is a :class:`CommandError`."""
    from .executor.policy import PolicyError, ToolPolicy

    if not Path(path).exists():
        raise CommandError(f"no policy file {path}")
    try:
        return ToolPolicy.load(Path(path))
    except PolicyError as exc:
        raise CommandError(str(exc)) from None


def _print_effects(effects: Sequence[Any]) -> None:
    """A dry run's effect plan: each call held back, in order, with its arguments and code line."""
    count = len(effects)
    print(f"-- effect plan: {count} call{'s' * (count != 1)} not made" + (":" if effects else ""))
    for planned in effects:
        where = f"line {planned.line}" if planned.line is not None else "line ?"
        arguments = json.dumps(planned.arguments, ensure_ascii=False, sort_keys=True, default=str)
        print(f"{planned.order:>4}. {planned.tool}({arguments})  [{where}; answered from the {planned.answered}]")


def cmd_run(args: argparse.Namespace) -> int:
    code = sys.stdin.read() if args.file == "-" else _read_code(args.file)
    if code is None:
        return 2
    policy = _load_policy(args.policy) if args.policy is not None else None

    async def go() -> int:
        async with _workspace(args) as workspace:
            workspace.policy = policy  # headless: nobody answers "ask", so it is a denial
            await _discover(workspace)
            await workspace.ensure_executor(sandbox=args.sandbox)
            result = await workspace.run(
                code, timeout=args.timeout, source="cli", check=args.check, dry_run=args.dry_run
            )
            status = _print_run(result, as_json=args.json, filename=args.file)
            if args.dry_run and not args.json:
                _print_effects(result.effects)
            return status

    return asyncio.run(go())


def cmd_check(args: argparse.Namespace) -> int:
    from .check.checker import CheckerUnavailable
    from .check.diagnostic import has_errors

    code = sys.stdin.read() if args.file == "-" else _read_code(args.file)
    if code is None:
        return 2
    filename = "<stdin>" if args.file == "-" else args.file

    async def go() -> int:
        async with _workspace(args) as workspace:
            await _known_tools(workspace, refresh=args.refresh)
            try:
                found = await workspace.check(code)
            except CheckerUnavailable as exc:
                _err(f"error: {exc}")
                return 2
        errors = sum(1 for d in found if d.severity == "error")
        if args.json:
            _print_json({"file": filename, "errors": errors, "diagnostics": [d.to_dict() for d in found]})
        else:
            for diagnostic in found:
                print(diagnostic.format(filename))
            warnings = len(found) - errors
            _err(f"-- {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
        return 1 if has_errors(found) else 0

    return asyncio.run(go())


def _executor_config(args: argparse.Namespace) -> Any:
    """The executor options of ``serve`` as a ``CodeModeConfig``; a bad combination is a ConfigError."""
    from .executor import CodeModeConfig
    from .executor.config import DEFAULT_MEMORY_LIMIT_MB

    memory = DEFAULT_MEMORY_LIMIT_MB if args.memory_limit is None else args.memory_limit
    options: dict[str, Any] = {"sandbox": args.sandbox, "memory_limit_mb": memory or None}
    if args.jupyter_url:
        options["jupyter_url"] = args.jupyter_url
    if args.timeout is not None:
        options["timeout"] = args.timeout
    if args.max_output is not None:
        options["max_output_bytes"] = args.max_output
    try:
        return CodeModeConfig(**options)
    except ValueError as exc:
        raise ConfigError(f"serve: {exc}") from None


def cmd_serve(args: argparse.Namespace) -> int:
    from .server_mode import ServeAuthError, resolve_token, serve

    if args.sandbox == "jupyter" and not args.jupyter_url:
        raise ConfigError("serve --sandbox jupyter needs --jupyter-url (the Jupyter Server's base URL)")
    executor_config = _executor_config(args)
    policy = _load_policy(args.policy) if args.policy is not None else None
    token: str | None = None
    if args.transport == "http" and not args.no_auth:
        try:
            token, announce = resolve_token(args.token_file)
        except ServeAuthError as exc:
            raise ConfigError(str(exc)) from None
        if announce:
            _err(f"codemode-tui serve: bearer token (send 'Authorization: Bearer <token>'): {token}")
    elif args.transport == "http":
        _err("codemode-tui serve: WARNING: --no-auth: anyone who can reach the port can run code as you")
    workspace = _workspace(args)
    workspace.executor_config = executor_config
    workspace.max_sessions = args.max_sessions
    workspace.session_idle_timeout = args.session_idle_timeout
    if args.policy is not None:
        workspace.policy_path = args.policy  # a client's "always allow" answer is saved there
    asyncio.run(
        serve(
            workspace,
            transport=args.transport,
            host=args.host,
            port=args.port,
            allow_direct_calls=args.allow_direct_calls,
            token=token,
            max_answer_chars=args.max_answer_chars,
            policy=policy,
        )
    )
    return 0


# -- recorded runs ---------------------------------------------------------------

#: Run modes worth showing beside a run (a live run says nothing).
REPLAYED_MODES = ("replay", "replay-reads", "dry-run")
#: ``runs list --source agent``: the runs agents made (through ``serve`` or the Pydantic AI toolset).
AGENT_SOURCES = ("serve", "toolset")


def _history(args: argparse.Namespace) -> Any:
    """The run history, without loading the engine (listing runs starts no server)."""
    from .snippets import RunHistory

    return RunHistory()


def _find_run(history: Any, run_id: str) -> Any:
    found = history.get(run_id)
    if found is None:
        matches = [r.id for r in history.list() if r.id.startswith(run_id)] if run_id else []
        if len(matches) > 1:
            raise CommandError(f"{run_id!r} is the start of {len(matches)} run ids; give more of it")
        raise CommandError(f"no run {run_id!r} in the history; `codemode-tui runs list` shows them")
    return found


def _summary(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "started": record.started,
        "source": record.source,
        "session": record.session,
        "mode": record.mode,
        "status": record.status,
        "duration": round(record.duration, 3),
        "calls": len(record.trace),
        "recorded": record.recorded,
        "snippet": record.snippet,
        "replay_of": record.replay_of,
        "title": record.title(),
    }


def cmd_runs_list(args: argparse.Namespace) -> int:
    history = _history(args)
    records = history.list()
    if args.source == "agent":
        records = [r for r in records if r.source in AGENT_SOURCES]
    elif args.source:
        records = [r for r in records if r.source == args.source]
    records = records[: args.limit]
    if args.json:
        _print_json([_summary(r) for r in records])
        return 0
    for r in records:
        calls = f"{len(r.trace)} call{'s' * (len(r.trace) != 1)}"
        mode = f" [{r.mode}]" if r.mode in REPLAYED_MODES else ""
        print(f"{r.id}  {r.started}  {r.source:<10} {r.status:<9} {r.duration:6.2f} s  {calls:<9} {r.title()}{mode}")
    if not records:
        _err("no runs" + (f" from {args.source}" if args.source else "") + " in the history")
    return 0


def _trace_line(call: dict[str, Any], number: int) -> str:
    arguments = json.dumps(call.get("arguments") or {}, ensure_ascii=False, sort_keys=True, default=str)
    if len(arguments) > 200:
        arguments = arguments[:197] + "..."
    state = {True: "ok", False: "error", None: "unfinished"}[call.get("ok")]
    line = call.get("line")
    parts = [f"line {line}" if line is not None else "line ?", f"answered: {call.get('answered') or 'live'}"]
    if call.get("decision"):
        parts.append(str(call["decision"]))
    text = f"{number:>4}. {call.get('tool')}({arguments}) -> {state}  [{'; '.join(parts)}]"
    detail = call.get("error") if call.get("ok") is False else call.get("preview")
    return text + (f"\n        {str(detail)[:200]}" if detail else "")


def cmd_runs_show(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    record = _find_run(_history(args), args.id)
    if args.json:
        _print_json(asdict(record))
        return 0
    head = f"run {record.id}: {record.status} in {record.duration:.2f} s, {record.started}, from {record.source}"
    if record.session:
        head += f" (session {record.session[:12]})"
    if record.mode in REPLAYED_MODES:
        head += f", {record.mode}" + (f" of {record.replay_of}" if record.replay_of else "")
    print(head)
    if record.snippet:
        print(f"skill: {record.snippet}")
    print("-- code")
    print(record.code.rstrip("\n"))
    print("-- output")
    if record.output:
        print(record.output.rstrip("\n"))
    if record.value is not None:
        print(f"-- value\n{record.value}")
    if record.error:
        print(f"-- error\n{record.error}")
    print(f"-- trace: {len(record.trace)} call{'s' * (len(record.trace) != 1)}")
    for number, call in enumerate(record.trace, 1):
        print(_trace_line(call, number))
    if record.effects:
        print(f"-- effect plan: {len(record.effects)} call{'s' * (len(record.effects) != 1)} not made")
        for planned in record.effects:
            arguments = json.dumps(planned.get("arguments") or {}, ensure_ascii=False, sort_keys=True, default=str)
            print(f"{planned.get('order'):>4}. {planned.get('tool')}({arguments})  [line {planned.get('line')}]")
    if record.divergences:
        from .executor.recording import describe_divergence

        print(f"-- divergences: {len(record.divergences)}")
        for divergence in record.divergences:
            print(f"  {describe_divergence(divergence)}")
    if not record.recorded and record.trace:
        _err("this run has no recording: it cannot be replayed")
    return 0


def cmd_runs_replay(args: argparse.Namespace) -> int:
    from .executor.recording import RecordingError
    from .run_events import RunFinished

    code = None
    if args.code is not None:
        code = _read_code(args.code)
        if code is None:
            return 2
    policy = _load_policy(args.policy) if args.policy is not None else None

    async def go() -> int:
        async with _workspace(args) as workspace:
            record = _find_run(workspace.history, args.id)
            if args.reads_only:
                # Calls that are not read-only run live: connect, and let the policy (default:
                # destructive and open-world calls ask, which headless is a denial) decide.
                from .executor.policy import ToolPolicy

                workspace.policy = policy if policy is not None else ToolPolicy()
                await _discover(workspace)
            # A full replay contacts no server: the tools come from the recording.
            finished: list[Any] = []
            stop = workspace.add_run_listener(
                lambda event: finished.append(event.record) if isinstance(event, RunFinished) else None
            )
            if args.sandbox is not None:
                workspace.executor_config = dataclasses.replace(workspace.executor_config, sandbox=args.sandbox)
            try:
                result = await workspace.replay(
                    record, code=code, reads_only=args.reads_only, source="cli", timeout=args.timeout
                )
            except RecordingError as exc:
                raise CommandError(str(exc)) from None
            finally:
                stop()
            replay_id = finished[-1].id if finished else None
            if args.json:
                _print_json({**result.to_dict(), "replay_of": record.id, "id": replay_id})
            else:
                _print_run(result, as_json=False)
                for divergence in result.divergences:
                    _err(f"divergence: {divergence.describe()}")
                kept = "identical calls" if not result.divergences else f"{len(result.divergences)} divergences"
                _err(f"-- replayed run {record.id}" + (f" as run {replay_id}" if replay_id else "") + f": {kept}")
            return 0 if result.success and not result.divergences else 1

    return asyncio.run(go())


def _recording_or_none(workspace: Workspace, record: Any) -> Any:
    from .executor.recording import RecordingError

    try:
        return workspace.recording_of(record)
    except RecordingError:
        return None  # compared on the trace's previews


def cmd_runs_diff(args: argparse.Namespace) -> int:
    from .snippets.run_diff import diff_runs

    workspace = _workspace(args)
    left = _find_run(workspace.history, args.left)
    right = _find_run(workspace.history, args.right)
    diff = diff_runs(left, right, _recording_or_none(workspace, left), _recording_or_none(workspace, right))
    if args.json:
        _print_json(diff.to_dict())
    else:
        for line in diff.lines():
            print(line)
    return 0 if diff.identical else 1


def cmd_runs_export(args: argparse.Namespace) -> int:
    from .executor.recording import RecordingError

    workspace = _workspace(args)
    record = _find_run(workspace.history, args.id)
    try:
        recording = workspace.recording_of(record)
        recording.code = recording.code or record.code
        recording.save(Path(args.file))
    except RecordingError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot write {args.file}: {exc.strerror or exc}") from None
    _err(f"wrote the recording of run {record.id} ({len(recording.calls)} calls) to {args.file}")
    return 0


# -- skills ----------------------------------------------------------------------


def cmd_skills_list(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    snippets = workspace.snippets.list()
    if args.json:
        _print_json([{k: v for k, v in s.to_dict().items() if k != "code"} for s in snippets])
    else:
        for snippet in snippets:
            params = " ".join(p.name + ("" if p.required else "?") for p in snippet.parameters)
            print(f"{snippet.name:<30} {snippet.description}" + (f"  [{params}]" if params else ""))
    for path, problem in workspace.snippets.problems.items():
        _err(f"skipped {path.name}: {problem}")
    return 0


async def _discover_used(workspace: Workspace, code: str) -> None:
    """Connect to the servers ``code`` imports from, so its tools get their qualified names."""
    from .names import sanitize_identifier
    from .snippets import used_tools

    modules = {use.module for use in used_tools(code)}
    for name in workspace.servers:
        if sanitize_identifier(name, fallback="server") in modules:
            try:
                await workspace.registry.discover_server(name)
            except Exception as exc:  # reported; the tool is then kept as module.function
                _err(f"{name}: {exc}")


def cmd_skills_save(args: argparse.Namespace) -> int:
    from .executor.recording import RecordingError
    from .snippets import Snippet, SnippetParam
    from .snippets.skills import save_fixture

    if args.file is None and args.from_run is None:
        raise CommandError("give the code: --file FILE.py, or --from-run ID to save a past run's code")
    record = recording = None
    if args.from_run is not None:
        workspace = _workspace(args)
        record = _find_run(workspace.history, args.from_run)
        try:
            recording = workspace.recording_of(record)
        except RecordingError as exc:
            raise CommandError(str(exc)) from None
    code = _read_code(args.file) if args.file is not None else record.code
    if code is None:
        return 2
    params = [SnippetParam.parse_spec(spec) for spec in args.param]
    snippet = Snippet(name=args.name, code=code, description=args.description or "", parameters=params)

    async def go() -> int:
        async with _workspace(args) as workspace:
            await _discover_used(workspace, code)
            saved = workspace.snippets.save(snippet, tools=workspace.registry.list_tools())
            _err(f"saved skill {saved.name!r} to {workspace.snippets.path(saved.name)}")
            if record is not None and recording is not None:
                # The run's tool traffic goes with the skill: `skills export` ships it as an offline test.
                same_code = code == record.code
                fixture = save_fixture(
                    workspace.snippets.folder,
                    saved.name,
                    recording,
                    output=record.output if same_code and record.status == "ok" else None,
                )
                _err(f"kept the recording of run {record.id} ({len(recording.calls)} calls) as {fixture}")
            return 0

    return asyncio.run(go())


def cmd_skills_run(args: argparse.Namespace) -> int:
    values = _parse_pairs(args.arg, "--arg")

    async def go() -> int:
        async with _workspace(args) as workspace:
            snippet = workspace.snippets.get(args.name)
            snippet.bind(values)  # a missing or mistyped value fails before any server starts
            await _discover(workspace)
            result = await workspace.run_skill(args.name, values, timeout=args.timeout, source="cli")
            return _print_run(result, as_json=args.json)

    return asyncio.run(go())


def cmd_skills_export(args: argparse.Namespace) -> int:
    from .snippets import export_skill
    from .snippets.skills import load_fixture

    async def go() -> int:
        async with _workspace(args) as workspace:
            snippet = workspace.snippets.get(args.name)
            fixture = None if args.no_tests else load_fixture(workspace.snippets.folder, snippet.name)
            await _discover_used(workspace, snippet.code)  # signatures for references/tools.md
            folder = export_skill(
                snippet,
                Path(args.out),
                servers=workspace.servers,
                tools=workspace.registry.list_tools(),
                license=args.license,
                overwrite=args.overwrite,
                fixture=fixture,
            )
            if fixture is not None:
                _err(f"with tests/: a replay of the recorded run (pytest {folder / 'tests'})")
            print(folder)
            return 0

    return asyncio.run(go())


def cmd_skills_import(args: argparse.Namespace) -> int:
    from .snippets.skills import import_skills

    workspace = _workspace(args)
    snippets = import_skills(Path(args.dir))  # every script of the folder, the main one first
    for snippet in snippets:  # all are checked before any is saved: a name clash saves none
        if not args.overwrite and workspace.snippets.exists(snippet.name):
            raise SnippetError(f"a skill named {snippet.name!r} already exists; import with --overwrite to replace it")
    for snippet in snippets:
        saved = workspace.snippets.save(snippet, overwrite=args.overwrite, tools=workspace.registry.list_tools())
        params = " ".join(p.name + ("" if p.required else "?") for p in saved.parameters)
        _err(f"imported skill {saved.name!r}" + (f"  [{params}]" if params else ""))
    return 0


def cmd_skills_delete(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    workspace.snippets.delete(args.name)
    _err(f"deleted skill {args.name!r}")
    return 0


# -- parser ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codemode-tui",
        description=(
            "MCP Code Mode: explore MCP servers, generate typed Python bindings and run code that composes their tools."
        ),
        epilog="With no command, opens the playground on the saved servers (the bundled demo server on first start).",
    )
    parser.add_argument("--version", action="version", version=f"codemode-tui {__version__}")
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="use this mcpServers JSON file instead of the saved configuration"
    )
    parser.add_argument(
        "--serve",
        dest="playground_serve",
        action="store_true",
        help="playground: also serve the meta-tools to agents over streamable HTTP on loopback, "
        "to watch, approve, stop and replay their runs (the token and a client config are shown in the app)",
    )
    parser.add_argument(
        "--port",
        dest="playground_port",
        type=int,
        metavar="N",
        help="playground: the port of --serve (default 8765, or a free one when it is taken)",
    )
    parser.add_argument(
        "--policy",
        dest="playground_policy",
        type=Path,
        metavar="FILE",
        help="playground: the tool policy file (allow / ask / deny per tool, server and annotation)",
    )
    parser.set_defaults(handler=cmd_tui)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str, parent: Any = sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--config", type=Path, metavar="FILE", default=argparse.SUPPRESS, help="mcpServers JSON file to use"
        )
        p.set_defaults(handler=handler)
        return p

    demo = command("demo-server", cmd_demo_server, "run the bundled demo MCP server (stdio unless --http)")
    demo.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP on this port instead of stdio")
    demo.add_argument("--host", default="127.0.0.1", help="address for --http (default 127.0.0.1)")

    servers = sub.add_parser("servers", help="list, add, remove, import or export configured servers")
    servers_sub = servers.add_subparsers(title="servers commands", metavar="ACTION", required=True)
    p = command("list", cmd_servers_list, "list configured servers", servers_sub)
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p = command(
        "add",
        cmd_servers_add,
        "add a server: a command (stdio) or a URL (http/sse); options go before NAME, "
        "everything after the command is passed to it",
        servers_sub,
    )
    p.add_argument("name")
    p.add_argument("target", help="command to run, or http(s) URL")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments of the command")
    p.add_argument("--transport", choices=["stdio", "http", "sse"], help="default: stdio for a command, http for a URL")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="environment variable (stdio)")
    p.add_argument("--header", action="append", default=[], metavar="NAME=VALUE", help="HTTP header (http/sse)")
    p.add_argument("--replace", action="store_true", help="overwrite a server of the same name")
    p = command("remove", cmd_servers_remove, "remove a server", servers_sub)
    p.add_argument("name")
    p = command(
        "import",
        cmd_servers_import,
        "merge servers from another client's file (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf)",
        servers_sub,
    )
    p.add_argument("file")
    p.add_argument("--replace", action="store_true", help="overwrite servers whose names already exist")
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="ID=VALUE",
        help="value of a VS Code ${input:ID}; kept for this session only unless --save-inputs",
    )
    p.add_argument("--save-inputs", action="store_true", help="write the --input values into the servers file")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p = command("export", cmd_servers_export, "write the servers as an mcpServers JSON file", servers_sub)
    p.add_argument("file")

    refresh_help = "connect to every server for its current tools (default: the tool cache of the last discovery)"
    p = command("tools", cmd_tools, "list the servers' tools (from the tool cache; --refresh connects)")
    p.add_argument("--server", metavar="NAME", help="only this server's tools")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p.add_argument("--refresh", action="store_true", help=refresh_help)

    p = command("search", cmd_search, "rank the tools for a query (progressive discovery)")
    p.add_argument("query")
    p.add_argument("--refresh", action="store_true", help=refresh_help)
    p.add_argument("--server", metavar="NAME", help="only this server's tools")
    p.add_argument("--limit", type=int, default=10, help="at most this many hits (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")

    p = command("run", cmd_run, "run a Python file (or - for stdin) in the sandbox with the tools' bindings")
    p.add_argument("file", help="Python file to run; top-level await works")
    p.add_argument("--timeout", type=float, metavar="S", help="stop the run after S seconds")
    p.add_argument("--sandbox", choices=["local", "eval"], help="local kernel (default, isolated) or eval (in-process)")
    p.add_argument(
        "--check",
        choices=["warn", "block", "off"],
        default="warn",
        help="type-check against the bindings first: warn (default: report, then run), block (no run on errors), off",
    )
    p.add_argument("--json", action="store_true", help="print the run (output, value, error, trace) as JSON")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="call only read-only tools; every other call is answered with a placeholder and printed "
        "in an effect plan (order, tool, arguments, code line)",
    )
    p.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="tool policy file (allow / ask / deny); headless, 'ask' is a denial the code can catch",
    )

    p = command("check", cmd_check, "type-check a Python file (or - for stdin) against the tools' bindings")
    p.add_argument("file", help="Python file to check; top-level await is allowed, as in a run")
    p.add_argument("--json", action="store_true", help="print the diagnostics as JSON on stdout")
    p.add_argument("--refresh", action="store_true", help=refresh_help)

    p = command("serve", cmd_serve, "serve the meta-tools (search, details, execute_code, skills) as an MCP server")
    p.add_argument("--transport", choices=["stdio", "http"], default="stdio", help="default: stdio")
    p.add_argument("--host", default="127.0.0.1", help="address for http (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port for http (default 8000)")
    p.add_argument("--allow-direct-calls", action="store_true", help="also offer call_tool, one tool without code")
    p.add_argument(
        "--sandbox",
        choices=["local", "jupyter", "eval"],
        default="local",
        help="local kernel (default, isolated), a kernel on --jupyter-url, or eval (in-process, NOT isolated)",
    )
    p.add_argument("--jupyter-url", metavar="URL", help="existing Jupyter Server for --sandbox jupyter (?token=... ok)")
    p.add_argument("--timeout", type=float, metavar="S", help="default run timeout in seconds (default 30)")
    p.add_argument("--max-output", type=int, metavar="BYTES", help="stdout+stderr kept per run (default 1000000)")
    p.add_argument(
        "--memory-limit",
        type=int,
        metavar="MB",
        help="address-space limit of each sandbox kernel (default: the executor's default; 0 = none)",
    )
    p.add_argument(
        "--max-answer-chars",
        type=int,
        default=DEFAULT_ANSWER_CHARS,
        metavar="N",
        help=f"characters of one execute_code/run_skill answer at most (default {DEFAULT_ANSWER_CHARS})",
    )
    p.add_argument(
        "--max-sessions",
        type=int,
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help=f"http: sandboxes of MCP sessions alive at once (default {DEFAULT_MAX_SESSIONS})",
    )
    p.add_argument(
        "--session-idle-timeout",
        type=float,
        default=DEFAULT_SESSION_IDLE_TIMEOUT,
        metavar="S",
        help=f"http: close a session's sandbox after S idle seconds (default {DEFAULT_SESSION_IDLE_TIMEOUT:g})",
    )
    p.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help=f"http: read the bearer token from FILE (else ${TOKEN_ENV}, else a new one printed on stderr)",
    )
    p.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="tool policy file (allow / ask / deny per tool, server and annotation); without it, destructive and "
        "open-world tools ask: the client is asked by elicitation when it supports it, else the call is denied",
    )
    p.add_argument(
        "--no-auth",
        action="store_true",
        help="http: accept requests WITHOUT a token; anyone who can reach the port runs code as you",
    )

    runs = sub.add_parser("runs", help="list, show, replay, compare and export recorded runs")
    runs_sub = runs.add_subparsers(title="runs commands", metavar="ACTION", required=True)
    p = command("list", cmd_runs_list, "list past runs, newest first", runs_sub)
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p.add_argument(
        "--source",
        choices=["agent", "serve", "toolset", "cli", "playground"],
        help="only the runs of one front end (agent: serve and the Pydantic AI toolset)",
    )
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N runs (default 50)")
    p = command("show", cmd_runs_show, "show a run: code, output, value, each tool call and its decision", runs_sub)
    p.add_argument("id", help="run id (a unique start of it is enough)")
    p.add_argument("--json", action="store_true", help="print the run as JSON")
    p = command(
        "replay",
        cmd_runs_replay,
        "run a recorded run again with every tool call answered from its recording (no server is "
        "contacted); exit 1 when a call diverges from the recording or the run fails",
        runs_sub,
    )
    p.add_argument("id", help="run id (a unique start of it is enough)")
    p.add_argument("--code", metavar="FILE", help="replay this edit of the run's code instead")
    p.add_argument(
        "--reads-only",
        action="store_true",
        help="answer only read-only calls from the recording; the others go to the policy and run live",
    )
    p.add_argument("--policy", type=Path, metavar="FILE", help="tool policy for the live calls of --reads-only")
    p.add_argument("--sandbox", choices=["local", "eval"], help="local kernel (default, isolated) or eval (in-process)")
    p.add_argument("--timeout", type=float, metavar="S", help="stop the replay after S seconds")
    p.add_argument("--json", action="store_true", help="print the replay (output, value, trace, divergences) as JSON")
    p = command(
        "diff",
        cmd_runs_diff,
        "compare two runs: calls added, removed or changed, and their outputs (exit 1: differ)",
        runs_sub,
    )
    p.add_argument("left", help="run id")
    p.add_argument("right", help="run id")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p = command(
        "export", cmd_runs_export, "write a run's recording as a JSON file (a test fixture for replays)", runs_sub
    )
    p.add_argument("id", help="run id (a unique start of it is enough)")
    p.add_argument("file", help="the JSON file to write")

    skills = sub.add_parser("skills", help="save, list, run, export and import skills (saved snippets)")
    skills_sub = skills.add_subparsers(title="skills commands", metavar="ACTION", required=True)
    p = command("list", cmd_skills_list, "list saved skills", skills_sub)
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p = command("save", cmd_skills_save, "save a Python file as a skill", skills_sub)
    p.add_argument("name", help="lowercase-with-hyphens, 1 to 64 characters")
    p.add_argument("--file", metavar="FILE.py", help="the code to save (default with --from-run: that run's code)")
    p.add_argument(
        "--from-run",
        metavar="ID",
        help="a past run (see `runs list`): its code, unless --file, and its recording, which `skills export` "
        "ships as an offline replay test",
    )
    p.add_argument("--description", metavar="TEXT", help="one line saying what it does")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME:TYPE[=DEFAULT]",
        help="a parameter the code uses as a variable (types: str int float bool list dict json)",
    )
    p = command("run", cmd_skills_run, "run a saved skill", skills_sub)
    p.add_argument("name")
    p.add_argument("--arg", action="append", default=[], metavar="NAME=VALUE", help="a parameter's value")
    p.add_argument("--timeout", type=float, metavar="S", help="stop the run after S seconds")
    p.add_argument("--json", action="store_true", help="print the run as JSON")
    p = command("export", cmd_skills_export, "export a skill as an Agent Skill folder (SKILL.md + script)", skills_sub)
    p.add_argument("name")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder <DIR>/<name>/ is created")
    p.add_argument("--license", help="license field of SKILL.md")
    p.add_argument("--overwrite", action="store_true", help="replace an existing exported folder")
    p.add_argument("--no-tests", action="store_true", help="leave out tests/ (the recording and its replay test)")
    p = command("import", cmd_skills_import, "import an Agent Skill folder as a saved skill", skills_sub)
    p.add_argument("dir")
    p.add_argument("--overwrite", action="store_true", help="replace a saved skill of the same name")
    p = command("delete", cmd_skills_delete, "delete a saved skill", skills_sub)
    p.add_argument("name")

    return parser


_OWN_STDOUT = (cmd_tui, cmd_serve, cmd_demo_server)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "config"):
        args.config = None
    # Tool and sandbox output reaches the terminal as text only.  The playground and the
    # MCP server own their stdout (Textual's screen, the protocol), so they are left alone.
    guard = contextlib.nullcontext() if args.handler in _OWN_STDOUT else sanitized_output()
    try:
        with guard:
            return int(args.handler(args))
    except (ConfigError, SnippetError, CommandError) as exc:
        _err(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130
