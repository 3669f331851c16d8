"""What an exported skill script runs: flags in, servers up, code in a sandbox, output out.

Kept in the engine (not pasted into every script) so exported skills stay a
few lines long and improve with the installed codemode-tui.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..config import ConfigError, load_servers
from ..registry import ToolRegistry
from .history import OUTPUT_HEAD
from .model import Snippet, SnippetError, SnippetParam
from .runner import run_with_values
from .skills import expand_server


def build_parser(name: str, description: str, params: list[SnippetParam]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=name, description=description)
    for param in params:
        default = f" (default: {json.dumps(param.default)})" if param.has_default else " (required)"
        parser.add_argument(
            "--" + param.name.replace("_", "-"),
            dest=param.name,
            metavar=param.type.upper(),
            help=f"{param.description or param.name} [{param.type}]{default}",
        )
    parser.add_argument("--json", action="store_true", help="print output, result and trace as JSON")
    parser.add_argument("--timeout", type=float, default=None, help="stop the run after this many seconds")
    return parser


async def run_code_with_servers(
    code: str, values: dict[str, Any], servers_file: Path, *, timeout: float | None = None
) -> Any:
    """Connect to the servers in ``servers_file``, run ``code`` with ``values`` bound; return the RunResult."""
    from ..executor import CodeModeExecutor

    configs = [expand_server(config, os.environ) for config in load_servers(servers_file).values()]
    async with ToolRegistry(configs) as registry:
        outcomes = await registry.discover_all()
        failed = [f"{o.server}: {o.error}" for o in outcomes.values() if not o.ok]
        if failed:
            raise SnippetError("cannot reach the servers this skill needs:\n" + "\n".join(failed))
        async with CodeModeExecutor(registry) as executor:
            return await run_with_values(executor, code, values, timeout=timeout)


def _fixture_data(recording_file: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(recording_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnippetError(f"{recording_file}: cannot read the recording: {exc}") from None
    if not isinstance(data, dict):
        raise SnippetError(f"{recording_file}: not a recording")
    return data


def expected_output(recording_file: Path) -> str | None:
    """The output the recorded run printed (stdout and stderr), when the fixture kept all of it."""
    expected = _fixture_data(recording_file).get("expected") or {}
    output = expected.get("output") if isinstance(expected, dict) else None
    if not isinstance(output, str) or len(output) >= OUTPUT_HEAD:
        return None  # the history keeps only the head of a long output: nothing whole to compare
    return output


async def replay_code(
    code: str,
    recording: Any,
    values: dict[str, Any] | None = None,
    *,
    sandbox: str = "local",
    timeout: float | None = None,
) -> Any:
    """Run ``code`` with every tool call answered from ``recording``; no server is contacted.

    The tools (for the bindings) come from the recording's catalogs; a call's
    arguments are redacted the way an exported recording's are before they are
    matched, so a skill whose calls carried a secret still replays.  Nothing is
    written to the run history.  Returns the RunResult (``divergences`` lists
    where the code left the recording).
    """
    from ..config import MCPServerConfig
    from ..executor import CodeModeConfig, CodeModeExecutor
    from ..executor.call_gate import GateAnswer, GateCall, ReplayGate
    from .skills import redact_arguments

    class RedactedReplay(ReplayGate):
        async def __call__(self, call: GateCall) -> GateAnswer | None:
            original = call.record.arguments
            call.record.arguments = redact_arguments(original)
            try:
                return await super().__call__(call)
            finally:
                call.record.arguments = original

    registry = ToolRegistry()
    for server, tools in recording.tool_definitions().items():
        registry.add_server(MCPServerConfig(name=server, command="true", enabled=False))
        registry.load_tools(server, tools)
    config = CodeModeConfig(sandbox=sandbox)  # type: ignore[arg-type]
    async with registry, CodeModeExecutor(registry, config=config) as executor:
        gate = RedactedReplay(recording)
        return await run_with_values(executor, code, values or {}, timeout=timeout, gates=[gate], check="off")


def replay_skill_script(
    script: Path,
    recording_file: Path,
    values: dict[str, Any] | None = None,
    *,
    sandbox: str = "local",
    timeout: float | None = None,
) -> Any:
    """Replay an exported skill script's code against a recording file (an exported skill's test).

    ``values`` default to the parameters' defaults.  A script or recording that
    cannot be read raises ``SnippetError``.
    """
    from ..executor.recording import Recording, RecordingError
    from .skills import _literals

    try:
        literals = _literals(Path(script).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise SnippetError(f"{script}: cannot read the skill script: {exc}") from None
    if not isinstance(literals.get("CODE"), str):
        raise SnippetError(f"{script} is not a skill script exported by codemode-tui (no CODE)")
    try:
        recording = Recording.from_dict(_fixture_data(recording_file), where=str(recording_file))
    except RecordingError as exc:
        raise SnippetError(str(exc)) from None
    params = [SnippetParam.from_dict(p) for p in literals.get("PARAMETERS", [])]
    snippet = Snippet(name=str(literals.get("NAME", "skill")), code=literals["CODE"], parameters=params)
    bound = snippet.bind(values or {})
    return asyncio.run(replay_code(snippet.code, recording, bound, sandbox=sandbox, timeout=timeout))


def print_result(result: Any, *, as_json: bool) -> None:
    """Print a RunResult as the playground shows it: stdout, then the value."""
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
        return
    if result.stdout:
        sys.stdout.write(result.stdout)
    if result.value is not None:
        print(json.dumps(result.value, indent=2, default=str) if not isinstance(result.value, str) else result.value)
    if result.stderr:
        sys.stderr.write(result.stderr)
    if result.error is not None:
        print(result.error.traceback or f"{result.error.type}: {result.error.message}", file=sys.stderr)


def run_script(name: str, description: str, parameters: list[dict[str, Any]], code: str, servers_file: Path) -> int:
    """Entry point of an exported skill script; returns the exit code."""
    params = [SnippetParam.from_dict(p) for p in parameters]
    args = build_parser(name, description, params).parse_args()
    snippet = Snippet(name=name, code=code, description=description, parameters=params)
    try:
        given = {p.name: getattr(args, p.name) for p in params if getattr(args, p.name) is not None}
        values = snippet.bind(given)
        result = asyncio.run(run_code_with_servers(code, values, servers_file, timeout=args.timeout))
    except (SnippetError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_result(result, as_json=args.json)
    return 0 if result.success else 1
