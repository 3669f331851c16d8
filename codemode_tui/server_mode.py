"""``codemode-tui serve``: the engine as an MCP server of meta-tools.

Any MCP client (Claude Desktop, an IDE, an agent framework) adds this one
server and gets progressive discovery plus code execution over every
configured server: a handful of small tools in its context instead of every
tool definition.  Discovery runs at start-up, before the first request, so a
client never sees an empty registry; a broken downstream server is reported by
``list_servers``, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError as ServerToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from . import __version__
from .executor import CodeModeConfig
from .executor.policy import Approval, ApprovalRequest, Approver, ToolPolicy
from .meta_tools import meta_description
from .registry import ToolRegistry
from .results import ToolError
from .snippets import Snippet, SnippetError, SnippetParam
from .workspace import SessionLimitError, Workspace


def instructions(*, skills: bool = True, direct_calls: bool = False) -> str:
    """The server (or toolset) instructions, naming only the tools it really offers."""
    extra = []
    if skills:
        extra.append("Saved skills (reusable code): list_skills, run_skill, save_skill.")
    if direct_calls:
        extra.append("call_tool(tool_name, arguments) calls one tool without code.")
    return (
        f"""\
Code Mode: instead of calling tools one by one, write Python that calls them.

1. Find tools: search_tools("what you need") (or list_servers / list_tool_names).
2. Read one: get_tool_details("server__tool") gives its parameters, Python signature and import line.
3. Run code: execute_code(code) runs Python in a sandbox where every tool is an async function:

    from generated.servers.<server> import <tool>
    result = await <tool>(param=value)          # or: await <tool>({{"param": value}})
    print(result)

A tool returns the server's structured value: a dict when it declares an output schema, else
its text (parsed when it is JSON). Top-level await works; use asyncio.gather for parallel calls.
print() output and the value of the last expression come back, with a trace of the tool calls;
long parts are cut with a marker. A failing tool raises ToolError (from generated.client import
ToolError) where it was awaited, so try/except works. Variables persist between execute_code
calls. {" ".join(extra)}
""".rstrip()
        + "\n"
    )


#: What ``serve`` tells a client at ``initialize`` (without direct calls).
INSTRUCTIONS = instructions()


def skills_listing(workspace: Workspace) -> dict[str, Any]:
    """``list_skills``: every saved skill without its code."""
    skills = [snippet.listing() for snippet in workspace.snippets.list()]
    return {"skills": skills, "total": len(skills)}


def save_skill_to(
    workspace: Workspace, name: str, code: str, description: str, parameters: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """``save_skill``: store code as a skill; raises ``SnippetError``/``KeyError`` on a bad one."""
    params = [SnippetParam.from_dict(p) for p in parameters or []]
    snippet = Snippet(name=name, code=code, description=description, parameters=params)
    saved = workspace.snippets.save(snippet, tools=workspace.registry.list_tools())
    return {k: v for k, v in saved.to_dict().items() if k != "code"}


READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


def _fail(exc: Exception) -> ServerToolError:
    """A tool error an MCP client shows as ``isError``, with the suggestions inline."""
    suggestions = getattr(exc, "suggestions", None)
    message = str(exc)
    if suggestions and "did you mean" not in message:
        message += f"; did you mean {', '.join(suggestions)}?"
    return ServerToolError(message)


def session_of(ctx: Context | None) -> str | None:
    """The MCP session a request belongs to (its ``Mcp-Session-Id``); ``None`` over stdio.

    Runs of one session share a sandbox; different sessions never do.
    """
    if ctx is None:
        return None
    try:
        headers = ctx.headers
    except (LookupError, ValueError, AttributeError):
        return None
    if not headers:
        return None
    return headers.get("mcp-session-id") or None


def client_name(ctx: Context | None) -> str:
    """``"name version"`` from the client's ``initialize`` (``clientInfo``), or ``""``."""
    try:
        params = ctx.session.client_params if ctx is not None else None
    except (LookupError, ValueError, AttributeError):
        return ""
    info = getattr(params, "client_info", None)
    if info is None:
        return ""
    return " ".join(part for part in (info.name, info.version) if part)


def note_request(workspace: Workspace, ctx: Context | None) -> str | None:
    """The request's session id, noted on the workspace (with the client's name) for the Agents view."""
    session = session_of(ctx)
    if session is not None:
        workspace.note_session(session, client=client_name(ctx))
    return session


class ApprovalForm(BaseModel):
    """What an MCP client is asked when a call needs approval (an elicitation's schema)."""

    answer: Literal["once", "run", "always", "deny"] = Field(
        description="once: this call; run: every call of this tool in this run; "
        "always: allow this tool from now on; deny: refuse it (the code gets a ToolError)"
    )


def approval_message(request: ApprovalRequest) -> str:
    """The elicitation's text: which tool, with which arguments, why it asks, and the code line."""
    arguments = json.dumps(request.arguments, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    if len(arguments) > 2000:
        arguments = arguments[:1997] + "..."
    where = f"line {request.line}" if request.line is not None else "a line"
    text = f"Code Mode wants to call {request.tool} ({request.reason}).\n\nArguments:\n{arguments}\n"
    if request.code_line:
        text += f"\nCalled from {where} of the code:\n    {request.code_line.strip()}\n"
    return text + "\nApprove it?"


def elicitation_approver(ctx: Context | None) -> Approver | None:
    """An approver that asks the MCP client by elicitation, or ``None`` when it cannot be asked.

    Only a client that declared the elicitation capability is asked; an
    answer other than an accepted form (declined, cancelled, a failure) is a denial.
    """
    if ctx is None:
        return None
    try:
        capabilities = ctx.client_capabilities
    except (LookupError, ValueError, AttributeError):
        return None
    if capabilities is None or capabilities.elicitation is None:
        return None
    who = client_name(ctx) or "the MCP client"

    async def ask(request: ApprovalRequest) -> Approval:
        try:
            answer = await ctx.elicit(approval_message(request), ApprovalForm)
        except Exception as exc:  # the client failed to answer: nobody approved
            return Approval("deny", by=who, note=f"the elicitation failed: {exc}")
        if answer.action == "accept":
            return Approval(answer.data.answer, by=f"{who} (elicitation)")
        return Approval("deny", by=f"{who} (elicitation)", note=f"the client answered {answer.action}")

    return ask


def approver_for(workspace: Workspace, ctx: Context | None) -> Approver | None:
    """Who answers "ask" for this request: a person attached to the workspace, else the client."""
    if workspace.approver is not None:
        return None  # the run uses workspace.approver (the playground's dialog)
    return elicitation_approver(ctx)


#: Characters an ``execute_code`` answer may take by default: a few thousand tokens of a model's context.
DEFAULT_ANSWER_CHARS = 20_000


def build_server(
    workspace: Workspace | None = None,
    *,
    registry: ToolRegistry | None = None,
    allow_direct_calls: bool = False,
    max_answer_chars: int = DEFAULT_ANSWER_CHARS,
    executor_config: CodeModeConfig | None = None,
) -> MCPServer:
    """The meta-tool server over ``workspace`` (already started by the caller), or over ``registry``.

    Given a :class:`ToolRegistry` (already discovered, and closed by its
    owner), the server makes a workspace around it; the sandbox it starts
    for ``execute_code`` is stopped when the server's lifespan ends.
    ``max_answer_chars`` bounds each ``execute_code``/``run_skill`` answer;
    ``executor_config`` sets how the workspace's sandbox runs code.
    """
    if (workspace is None) == (registry is None):
        raise TypeError("build_server needs a workspace or a registry (one of them)")
    owned = workspace is None
    ws = workspace if workspace is not None else Workspace(registry=registry)
    if executor_config is not None:
        ws.executor_config = executor_config

    @contextlib.asynccontextmanager
    async def lifespan(_: MCPServer) -> Any:
        try:
            yield {}
        finally:
            if owned:
                await ws.close_sandboxes()

    server = MCPServer(
        "codemode-tui",
        version=__version__,
        instructions=instructions(direct_calls=allow_direct_calls),
        lifespan=lifespan,
    )
    _add_tools(server, ws, allow_direct_calls=allow_direct_calls, max_answer_chars=max_answer_chars)
    return server


def _add_tools(server: MCPServer, workspace: Workspace, *, allow_direct_calls: bool, max_answer_chars: int) -> None:
    meta = workspace.meta

    @server.tool(annotations=READ_ONLY, description=meta_description("list_servers"))
    def list_servers(ctx: Context | None = None) -> dict[str, Any]:
        note_request(workspace, ctx)
        return meta.list_servers()

    @server.tool(annotations=READ_ONLY, description=meta_description("list_tool_names"))
    def list_tool_names(
        server: Annotated[str | None, Field(description="Only this server's tools")] = None,
        keywords: Annotated[list[str] | None, Field(description="Only tools matching these keywords")] = None,
        limit: Annotated[int, Field(ge=1, description="At most this many names")] = 100,
        match: Annotated[Literal["all", "any"], Field(description="Match every keyword, or any")] = "all",
        include_deferred: Annotated[bool, Field(description="Add deferred servers' tools")] = False,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        note_request(workspace, ctx)
        try:
            return meta.list_tool_names(
                server=server, keywords=keywords, limit=limit, match=match, include_deferred=include_deferred
            )
        except (LookupError, ValueError) as exc:
            raise _fail(exc) from None

    @server.tool(annotations=READ_ONLY, description=meta_description("search_tools"))
    def search_tools(
        query: Annotated[str, Field(description="What you want to do, in plain words")],
        server: Annotated[str | None, Field(description="Only this server's tools")] = None,
        limit: Annotated[int, Field(ge=1, description="At most this many hits")] = 10,
        include_schemas: Annotated[bool, Field(description="Add each tool's input schema")] = False,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        note_request(workspace, ctx)
        try:
            return meta.search_tools(query, server=server, limit=limit, include_schemas=include_schemas)
        except (LookupError, ValueError) as exc:
            raise _fail(exc) from None

    @server.tool(annotations=READ_ONLY, description=meta_description("get_tool_details"))
    def get_tool_details(
        tool_name: Annotated[str, Field(description="server__tool, or a unique tool name")],
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        note_request(workspace, ctx)
        try:
            return meta.get_tool_details(tool_name)
        except (LookupError, ValueError) as exc:
            raise _fail(exc) from None

    @server.tool(
        annotations=ToolAnnotations(destructiveHint=True, openWorldHint=True),
        description=meta_description("execute_code"),
    )
    async def execute_code(
        code: Annotated[str, Field(description="Python code; top-level await; tools from generated.servers.*")],
        timeout: Annotated[float | None, Field(gt=0, description="Stop the run after this many seconds")] = None,
        check: Annotated[
            Literal["warn", "block", "off"],
            Field(
                description="Type-check the code against the bindings first: 'warn' runs and returns the "
                "diagnostics, 'block' returns them without running anything when there is an error, 'off' skips it"
            ),
        ] = "warn",
        dry_run: Annotated[
            bool,
            Field(
                description="Call only read-only tools; every other call gets a placeholder answer and is listed "
                "in the answer's 'effects' (the plan of what the code would change), so nothing changes"
            ),
        ] = False,
        ctx: Context | None = None,
    ) -> CallToolResult:
        session = note_request(workspace, ctx)
        try:
            result = await workspace.run(
                code,
                timeout=timeout,
                source="serve",
                session=session,
                check=check,
                dry_run=dry_run,
                approver=approver_for(workspace, ctx),
            )
        except SessionLimitError as exc:
            raise _fail(exc) from None
        return run_answer(result, max_answer_chars)

    if allow_direct_calls:

        @server.tool(
            annotations=ToolAnnotations(destructiveHint=True, openWorldHint=True),
            description=meta_description("call_tool"),
        )
        async def call_tool(
            tool_name: Annotated[str, Field(description="server__tool")],
            arguments: Annotated[dict[str, Any] | None, Field(description="The tool's arguments")] = None,
            ctx: Context | None = None,
        ) -> Any:
            session = note_request(workspace, ctx)
            try:
                tool = meta.resolve(tool_name)
                await workspace.authorize(tool, arguments or {}, approver=approver_for(workspace, ctx), session=session)
                return await workspace.registry.call_tool(tool.qualified_name, arguments or {})
            except (ToolError, LookupError) as exc:
                raise _fail(exc) from None

    @server.tool(annotations=READ_ONLY, description=meta_description("list_skills"))
    def list_skills(ctx: Context | None = None) -> dict[str, Any]:
        note_request(workspace, ctx)
        return skills_listing(workspace)

    @server.tool(
        annotations=ToolAnnotations(destructiveHint=True, openWorldHint=True), description=meta_description("run_skill")
    )
    async def run_skill(
        name: Annotated[str, Field(description="The skill's name")],
        arguments: Annotated[dict[str, Any] | None, Field(description="Values of its parameters")] = None,
        timeout: Annotated[float | None, Field(gt=0, description="Stop the run after this many seconds")] = None,
        ctx: Context | None = None,
    ) -> CallToolResult:
        session = note_request(workspace, ctx)
        try:
            result = await workspace.run_skill(
                name,
                arguments or {},
                timeout=timeout,
                source="serve",
                session=session,
                approver=approver_for(workspace, ctx),  # "ask" goes to the client, by elicitation
            )
        except (SnippetError, SessionLimitError) as exc:
            raise _fail(exc) from None
        return run_answer(result, max_answer_chars)

    @server.tool(
        annotations=ToolAnnotations(destructiveHint=False, idempotentHint=True, openWorldHint=False),
        description=meta_description("save_skill"),
    )
    def save_skill(
        name: Annotated[str, Field(description="lowercase-with-hyphens, 1 to 64 characters")],
        code: Annotated[str, Field(description="The Python code (may use its parameters as variables)")],
        description: Annotated[str, Field(description="One line saying what it does")],
        parameters: Annotated[
            list[dict[str, Any]] | None,
            Field(description='Parameters: [{"name", "type" (str|int|float|bool|list|dict|json), "default"?}]'),
        ] = None,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        note_request(workspace, ctx)
        try:
            return save_skill_to(workspace, name, code, description, parameters)
        except (SnippetError, KeyError) as exc:
            raise _fail(exc) from None


#: Trace entries an answer lists; the rest are counted in ``trace_omitted``.
TRACE_ENTRIES = 40
#: Type-check findings an answer carries at most (each message at most 400 characters).
DIAGNOSTIC_ENTRIES = 20

#: The smallest answer budget that still leaves room for every part's marker.
MIN_ANSWER_CHARS = 2_000

_HINTS = {
    "stdout": "print less (a summary, a slice or a count)",
    "stderr": "write less to stderr",
    "value": "return a smaller value (a slice, a count or only the fields you need)",
    "error": "the start of the message is kept",
    "traceback": "the end of the traceback is kept",
}


def _jlen(text: str) -> int:
    """Characters ``text`` takes inside a compact JSON answer (escapes included)."""
    return len(json.dumps(text, ensure_ascii=False)) - 2


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


def _fit(text: str, room: int) -> str:
    """The longest prefix of ``text`` whose JSON form takes at most ``room`` characters."""
    if room <= 0:
        return ""
    size = _jlen(text)
    if size <= room:
        return text
    cut = max(0, int(len(text) * room / size))
    while cut and _jlen(text[:cut]) > room:
        cut = int(cut * 0.9)
    return text[:cut]


def _cut(text: str, room: int, part: str, *, keep: str = "head") -> tuple[str, int]:
    """``text`` cut to ``room`` JSON characters with a visible marker; and how many characters were dropped."""
    if _jlen(text) <= room:
        return text, 0
    marker = (
        f"[... {{dropped:,}} of {len(text):,} characters of {part} cut to fit the answer: {_HINTS[part]}, "
        "or keep the data in a variable (variables persist) and look at it in parts in the next run ...]"
    )
    room_for_text = max(0, room - _jlen(marker.format(dropped=len(text))) - 2)
    if keep == "tail":
        kept = _fit(text[::-1], room_for_text)[::-1]
        dropped = len(text) - len(kept)
        return marker.format(dropped=dropped) + "\n" + kept, dropped
    if keep == "both":
        head = _fit(text, room_for_text * 2 // 3)
        tail = _fit(text[len(head) :][::-1], room_for_text - _jlen(head))[::-1]
        dropped = len(text) - len(head) - len(tail)
        return head + "\n" + marker.format(dropped=dropped) + "\n" + tail, dropped
    kept = _fit(text, room_for_text)
    dropped = len(text) - len(kept)
    return kept + "\n" + marker.format(dropped=dropped), dropped


#: Characters of one argument value an effect plan entry shows (a file's content is cut, its path kept).
EFFECT_ARGUMENT_CHARS = 300


def _short_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a planned call, each long value cut with a count of what was dropped."""
    short: dict[str, Any] = {}
    for key, value in arguments.items():
        text = value if isinstance(value, str) else _dumps(value)
        if len(text) <= EFFECT_ARGUMENT_CHARS:
            short[key] = value
        else:
            short[key] = text[:EFFECT_ARGUMENT_CHARS] + f"... [{len(text) - EFFECT_ARGUMENT_CHARS:,} more characters]"
    return short


def _shares(sizes: dict[str, int], available: int) -> dict[str, int]:
    """Split ``available`` characters between the parts: small parts whole, the big ones an equal share."""
    if sum(sizes.values()) <= available:
        return dict(sizes)
    shares: dict[str, int] = {}
    pending = sorted(sizes, key=lambda key: sizes[key])
    remaining = max(0, available)
    while pending:
        fair = remaining // len(pending)
        if sizes[pending[0]] <= fair:
            key = pending.pop(0)
            shares[key] = sizes[key]
            remaining -= sizes[key]
        else:
            for key in pending:
                shares[key] = fair
            break
    return shares


def compact_run(result: Any, max_chars: int = DEFAULT_ANSWER_CHARS) -> dict[str, Any]:
    """A run as an agent needs it, within ``max_chars`` characters of compact JSON.

    stdout, stderr, the value and the error each get a fair share of the
    budget (a short part is never cut to make room for nothing); a part over
    its share is cut with a marker saying how much was dropped and how to get
    it.  ``cut`` lists the characters dropped per part; the trace keeps its
    first :data:`TRACE_ENTRIES` calls and counts the rest.
    """
    max_chars = max(int(max_chars), MIN_ANSWER_CHARS)
    data = result.to_dict()
    calls = list(result.trace)
    answer: dict[str, Any] = {
        "success": result.success,
        "stdout": "",
        "stderr": "",
        "value": None,
        "error": None,
        "notes": list(result.notes),
        "duration": round(result.duration, 3),
        "trace": [
            {
                "tool": call.name,
                "ok": call.ok,
                "duration": round(call.duration or 0.0, 3),
                **({"error": call.error[:500]} if call.error else {}),
                **({"line": call.line} if getattr(call, "line", None) is not None else {}),
                **({"decision": call.decision} if getattr(call, "decision", None) else {}),
                **({"answered": call.answered} if getattr(call, "answered", "live") != "live" else {}),
            }
            for call in calls[:TRACE_ENTRIES]
        ],
    }
    if len(calls) > TRACE_ENTRIES:
        answer["trace_omitted"] = len(calls) - TRACE_ENTRIES
    mode = getattr(result, "mode", "live")
    if mode in ("replay", "replay-reads", "dry-run"):
        answer["mode"] = mode
    effects = list(getattr(result, "effects", None) or [])
    if effects or mode == "dry-run":
        answer["effects"] = [
            {
                "order": planned.order,
                "tool": planned.tool,
                "arguments": _short_arguments(planned.arguments),
                "line": planned.line,
                "answered": planned.answered,
            }
            for planned in effects[:TRACE_ENTRIES]
        ]
        if len(effects) > TRACE_ENTRIES:
            answer["effects_omitted"] = len(effects) - TRACE_ENTRIES
    divergences = list(getattr(result, "divergences", None) or [])
    if divergences:
        answer["divergences"] = [d.describe() for d in divergences[:TRACE_ENTRIES]]
        if len(divergences) > TRACE_ENTRIES:
            answer["divergences_omitted"] = len(divergences) - TRACE_ENTRIES
    diagnostics = list(getattr(result, "diagnostics", None) or [])
    if diagnostics:
        answer["diagnostics"] = [
            {"line": d.line, "column": d.column, "severity": d.severity, "code": d.code, "message": d.message[:400]}
            for d in diagnostics[:DIAGNOSTIC_ENTRIES]
        ]
        if len(diagnostics) > DIAGNOSTIC_ENTRIES:
            answer["diagnostics_omitted"] = len(diagnostics) - DIAGNOSTIC_ENTRIES
    value = data["value"]
    value_text = value if isinstance(value, str) else _dumps(value)
    error = data["error"]
    texts = {"stdout": result.stdout or "", "stderr": result.stderr or "", "value": value_text}
    if error is not None:
        texts["error"] = str(error.get("message") or "")
        texts["traceback"] = str(error.get("traceback") or "")
    sizes = {key: _jlen(text) for key, text in texts.items()}
    # Room for the empty answer plus the keys added when something is cut.
    skeleton = _dumps({**answer, "error": error and {**error, "message": "", "traceback": ""}})
    overhead = len(skeleton) + 40 * len(texts) + 60
    available = max_chars - overhead
    for _ in range(4):
        shares = _shares(sizes, available)
        cut: dict[str, int] = {}
        parts: dict[str, str] = {}
        for key, text in texts.items():
            keep = {"stdout": "both", "stderr": "both", "traceback": "tail"}.get(key, "head")
            parts[key], dropped = _cut(text, shares[key], key, keep=keep)
            if dropped:
                cut[key] = dropped
        built = dict(answer, stdout=parts["stdout"], stderr=parts["stderr"])
        built["value"] = value if "value" not in cut else parts["value"]
        if "value" in cut:
            built["value_truncated"] = True
        if error is not None:
            built["error"] = {**error, "message": parts["error"], "traceback": parts["traceback"]}
        if cut:
            built["cut"] = cut
        over = len(_dumps(built)) - max_chars
        if over <= 0:
            return built
        available -= over + 50
    return built


def run_answer(result: Any, max_chars: int = DEFAULT_ANSWER_CHARS) -> CallToolResult:
    """The ``execute_code`` answer: one text block of compact JSON, no structured copy doubling it."""
    return CallToolResult(content=[TextContent(type="text", text=_dumps(compact_run(result, max_chars)))])


#: Environment variable holding the bearer token of ``serve --transport http``.
TOKEN_ENV = "CODEMODE_TUI_SERVE_TOKEN"


class ServeAuthError(Exception):
    """The token for ``serve --transport http`` cannot be read; the message says how to fix it."""


def resolve_token(token_file: Path | None = None, environ: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """The bearer token HTTP clients must send, and whether it is new (to be shown to the user once).

    From ``token_file`` if given, else from :data:`TOKEN_ENV`, else a fresh
    random token.  A token the user chose is never printed.
    """
    env = os.environ if environ is None else environ
    if token_file is not None:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ServeAuthError(f"cannot read the token file {token_file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ServeAuthError(f"the token file {token_file} is not text; put the token on one line") from None
        if not token or len(token.splitlines()) != 1:
            raise ServeAuthError(f"the token file {token_file} must hold the token on a single line")
        return token, False
    token = env.get(TOKEN_ENV, "").strip()
    if token:
        return token, False
    return secrets.token_urlsafe(32), True


def remembered_token(path: Path, environ: Mapping[str, str] | None = None) -> str:
    """The playground's serving token: :data:`TOKEN_ENV` if set, else the one kept in ``path``.

    Created on first use (0600, only the user can read it), so the client
    configurations people paste keep working across restarts.  A damaged file
    is replaced by a fresh token.
    """
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_ENV, "").strip()
    if token:
        return token
    try:
        kept = path.read_text(encoding="utf-8").strip()
        if kept and len(kept.splitlines()) == 1 and path.stat().st_mode & 0o077 == 0:
            return kept
    except (OSError, UnicodeDecodeError):
        pass
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.replace(temporary, path)
    return token


class BearerAuth:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer <token>``, else 401.

    Compared in constant time; the token is never logged.  Runs outside the
    SDK's own Host/Origin checks, which stay in place.  A ``DELETE`` that ends
    an MCP session (authorised, and accepted by the SDK) closes that session's
    sandbox before its answer is sent: once a client hears that its session
    ended, the sandbox is gone and its place under the cap is free.
    """

    def __init__(
        self, app: Any, token: str | None, on_session_end: Callable[[str], Awaitable[object]] | None = None
    ) -> None:
        self.app = app
        self._token = token.encode() if token is not None else None
        self._on_session_end = on_session_end

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if self._token is not None:
            scheme, _, given = headers.get(b"authorization", b"").partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self._token):
                await _unauthorized(send)
                return
        session = headers.get(b"mcp-session-id")
        if scope.get("method") == "DELETE" and session and self._on_session_end is not None:
            send = _closing_first(self._on_session_end, session.decode("latin-1"), send)
        await self.app(scope, receive, send)


def _closing_first(end: Callable[[str], Awaitable[object]], session: str, send: Any) -> Any:
    """``send`` that ends ``session``'s sandbox before a successful answer to its ``DELETE`` goes out."""

    async def send_after_closing(message: Any) -> None:
        if message.get("type") == "http.response.start" and 200 <= int(message.get("status", 0)) < 300:
            await end(session)
        await send(message)

    return send_after_closing


async def _unauthorized(send: Any) -> None:
    body = json.dumps(
        {
            "error": "unauthorized",
            "message": "send the token printed by 'codemode-tui serve' as 'Authorization: Bearer <token>' "
            f"(or the one in --token-file / ${TOKEN_ENV})",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="codemode-tui"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _reap_idle_sessions(workspace: Workspace, log: Callable[[str], None] | None = None) -> None:
    """Close the sandboxes of sessions idle for longer than the workspace allows."""
    period = max(0.5, min(30.0, workspace.session_idle_timeout / 4))
    while True:
        await asyncio.sleep(period)
        for session in await workspace.close_idle_sessions():
            if log is not None:
                log(f"session {session[:8]}: idle, sandbox closed")


class _Uvicorn:
    """Builds the uvicorn server; embedded (``signals=False``) it leaves the process's signal handlers alone.

    uvicorn installs SIGINT/SIGTERM handlers whenever it runs on the main
    thread; inside the playground (Textual's loop, on the main thread) that would
    take Ctrl+C and SIGTERM away from the app, so the embedded server skips it.
    """

    @staticmethod
    def build(config: Any, *, signals: bool, ready: asyncio.Event | None) -> Any:
        import uvicorn

        class Server(uvicorn.Server):
            def capture_signals(self) -> Any:
                if signals:
                    return super().capture_signals()
                return contextlib.nullcontext()

            async def startup(self, sockets: Any = None) -> None:
                await super().startup(sockets)
                if ready is not None and self.started and not self.should_exit:
                    ready.set()

        return Server(config)


def _headless_log(message: str) -> None:
    print(f"codemode-tui serve: {message}", file=sys.stderr)


async def serve_http(
    workspace: Workspace,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None,
    allow_direct_calls: bool = False,
    max_answer_chars: int = DEFAULT_ANSWER_CHARS,
    policy: ToolPolicy | None = None,
    ready: asyncio.Event | None = None,
    log: Callable[[str], None] | None = None,
    install_signal_handlers: bool = False,
) -> None:
    """Serve the meta-tools over streamable HTTP on ``workspace`` (already started) until cancelled.

    The same server ``codemode-tui serve --transport http`` runs, made to live
    inside another program's event loop (the playground's ``--serve``): it sets
    ``ready`` once it listens, installs no signal handlers unless asked, and on
    cancellation stops listening and closes the sessions' sandboxes it opened.
    ``token`` is the bearer token every request must carry (``None``: no
    authentication).  ``policy``, when given, becomes ``workspace.policy``.
    ``log`` hears about sessions closed for idling.  A port that cannot be
    bound raises ``OSError``.
    """
    if policy is not None:
        workspace.policy = policy
    await workspace.warm_sdk()  # a fresh session's first call as fast as the next
    server = build_server(workspace, allow_direct_calls=allow_direct_calls, max_answer_chars=max_answer_chars)
    app = server.streamable_http_app(
        host=host, session_idle_timeout=workspace.session_idle_timeout, max_sessions=workspace.max_sessions * 4
    )
    ended: set[asyncio.Task[bool]] = set()

    async def end_session(session: str) -> None:
        # Shielded: a client that hangs up mid-DELETE must not leave a half-closed kernel behind.
        task = asyncio.ensure_future(workspace.close_session(session))
        ended.add(task)
        task.add_done_callback(ended.discard)
        try:
            await asyncio.shield(task)
        except Exception as exc:
            if log is not None:
                log(f"session {session[:8]}: closing its sandbox failed: {exc}")

    import uvicorn

    config = uvicorn.Config(
        BearerAuth(app, token, end_session),
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=3,
    )
    http = _Uvicorn.build(config, signals=install_signal_handlers, ready=ready)
    reaper = asyncio.ensure_future(_reap_idle_sessions(workspace, log))
    serving = asyncio.ensure_future(http.serve())
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        http.should_exit = True  # a graceful stop: the listening socket closes, open streams end
        with contextlib.suppress(BaseException):
            await serving
        raise
    except SystemExit:  # uvicorn exits the process when it cannot bind; we are a library here
        raise OSError(f"cannot serve on {host}:{port} (is the port in use?)") from None
    finally:
        reaper.cancel()
        with contextlib.suppress(BaseException):
            await reaper
        for task in list(ended):
            with contextlib.suppress(BaseException):
                await task
        for session in list(workspace_sessions(workspace)):
            with contextlib.suppress(Exception):
                await workspace.close_session(session)


def workspace_sessions(workspace: Workspace) -> list[str]:
    """The sessions that have a sandbox (closed when the HTTP server stops)."""
    return [entry.session for entry in workspace.sessions]


async def serve(
    workspace: Workspace,
    *,
    transport: Literal["stdio", "http"] = "stdio",
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_direct_calls: bool = False,
    token: str | None = None,
    max_answer_chars: int = DEFAULT_ANSWER_CHARS,
    policy: ToolPolicy | None = None,
) -> None:
    """Discover every server, warm the sandbox, then serve until the client goes away.

    Headless, so a tool policy is always in force: ``policy`` (from
    ``--policy FILE``) or the default one, in which destructive and open-world
    tools ask, and "ask" becomes an MCP elicitation to a client that supports
    it, else a denial the code can catch.  Over HTTP, ``token`` is the bearer
    token every request must carry (``None`` only for an explicit ``--no-auth``),
    and each MCP session gets a sandbox of its own, closed when the session
    ends or idles.
    """
    async with workspace:
        workspace.policy = policy if policy is not None else ToolPolicy()
        warm = workspace.warm_sdk()
        outcomes = await workspace.start()
        for outcome in outcomes.values():
            state = f"{len(outcome.tools)} tools" if outcome.ok else f"failed: {outcome.error}"
            _headless_log(f"{outcome.server}: {state}")
        if transport == "stdio":
            server = build_server(workspace, allow_direct_calls=allow_direct_calls, max_answer_chars=max_answer_chars)
            await workspace.ensure_executor()
            await warm
            await server.run_stdio_async()
            return
        await warm
        ready = asyncio.Event()

        async def announce() -> None:
            await ready.wait()
            _headless_log(f"http://{host}:{port}/mcp")

        announcer = asyncio.ensure_future(announce())
        try:
            await serve_http(
                workspace,
                host=host,
                port=port,
                token=token,
                allow_direct_calls=allow_direct_calls,
                max_answer_chars=max_answer_chars,
                ready=ready,
                log=_headless_log,
                install_signal_handlers=True,
            )
        finally:
            announcer.cancel()
