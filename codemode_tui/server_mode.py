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
import importlib
import json
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError as ServerToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from . import __version__
from .results import ToolError
from .snippets import Snippet, SnippetError, SnippetParam
from .workspace import SessionLimitError, Workspace

INSTRUCTIONS = """\
Code Mode: instead of calling tools one by one, write Python that calls them.

1. Find tools: search_tools("what you need") (or list_servers / list_tool_names).
2. Read one: get_tool_details("server__tool") gives its Python signature and import line.
3. Run code: execute_code(code) runs Python in a sandbox where every tool is an async function:

    from generated.servers.<server> import <tool>
    result = await <tool>(param=value)          # or: await <tool>({"param": value})
    print(result)

Top-level await works; use asyncio.gather for parallel calls. print() output and the value
of the last expression come back, with a trace of the tool calls. A failing tool raises
ToolError (from generated.client import ToolError) where it was awaited, so try/except
works. Variables persist between execute_code calls. Saved skills: list_skills, run_skill.
"""

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


def build_server(workspace: Workspace, *, allow_direct_calls: bool = False) -> MCPServer:
    """The meta-tool server over ``workspace`` (already started by the caller)."""
    server = MCPServer("codemode-tui", version=__version__, instructions=INSTRUCTIONS)
    meta = workspace.meta

    @server.tool(annotations=READ_ONLY)
    def list_servers() -> dict[str, Any]:
        """List the MCP servers behind Code Mode: name, status, tool count, transport and error."""
        return meta.list_servers()

    @server.tool(annotations=READ_ONLY)
    def list_tool_names(
        server: Annotated[str | None, Field(description="Only this server's tools")] = None,
        keywords: Annotated[list[str] | None, Field(description="Only tools matching every keyword")] = None,
        limit: Annotated[int, Field(ge=1, description="At most this many names")] = 100,
    ) -> dict[str, Any]:
        """List tool names (server__tool), optionally of one server or matching keywords."""
        try:
            return meta.list_tool_names(server=server, keywords=keywords, limit=limit)
        except (LookupError, ValueError) as exc:
            raise _fail(exc) from None

    @server.tool(annotations=READ_ONLY)
    def search_tools(
        query: Annotated[str, Field(description="What you want to do, in plain words")],
        server: Annotated[str | None, Field(description="Only this server's tools")] = None,
        limit: Annotated[int, Field(ge=1, description="At most this many hits")] = 10,
        include_schemas: Annotated[bool, Field(description="Add each tool's input schema")] = False,
    ) -> dict[str, Any]:
        """Find the tools for a task, best first, with a one-line description and a score."""
        try:
            return meta.search_tools(query, server=server, limit=limit, include_schemas=include_schemas)
        except (LookupError, ValueError) as exc:
            raise _fail(exc) from None

    @server.tool(annotations=READ_ONLY)
    def get_tool_details(
        tool_name: Annotated[str, Field(description="server__tool, or a unique tool name")],
    ) -> dict[str, Any]:
        """A tool's full definition, its Python signature, the line that imports it and an example call."""
        try:
            return meta.get_tool_details(tool_name)
        except (LookupError, ValueError) as exc:
            raise _fail(exc) from None

    @server.tool(annotations=ToolAnnotations(destructiveHint=True, openWorldHint=True))
    async def execute_code(
        code: Annotated[str, Field(description="Python code; top-level await; tools from generated.servers.*")],
        timeout: Annotated[float | None, Field(gt=0, description="Stop the run after this many seconds")] = None,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        """Run Python that composes the tools; returns stdout, the last expression's value, the error and a trace."""
        session = session_of(ctx)
        try:
            result = await workspace.run(code, timeout=timeout, source="serve", session=session)
        except SessionLimitError as exc:
            raise _fail(exc) from None
        return compact_run(result)

    if allow_direct_calls:

        @server.tool(annotations=ToolAnnotations(destructiveHint=True, openWorldHint=True))
        async def call_tool(
            tool_name: Annotated[str, Field(description="server__tool")],
            arguments: Annotated[dict[str, Any] | None, Field(description="The tool's arguments")] = None,
        ) -> Any:
            """Call one tool directly, without code (enabled by --allow-direct-calls)."""
            try:
                tool = meta.resolve(tool_name)
                return await workspace.registry.call_tool(tool.qualified_name, arguments or {})
            except (ToolError, LookupError) as exc:
                raise _fail(exc) from None

    @server.tool(annotations=READ_ONLY)
    def list_skills() -> dict[str, Any]:
        """List saved skills (snippets): name, description, parameters and the tools they call."""
        skills = [
            {k: v for k, v in snippet.to_dict().items() if k not in ("code", "created")}
            for snippet in workspace.snippets.list()
        ]
        return {"skills": skills, "total": len(skills)}

    @server.tool(annotations=ToolAnnotations(destructiveHint=True, openWorldHint=True))
    async def run_skill(
        name: Annotated[str, Field(description="The skill's name")],
        arguments: Annotated[dict[str, Any] | None, Field(description="Values of its parameters")] = None,
        timeout: Annotated[float | None, Field(gt=0, description="Stop the run after this many seconds")] = None,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        """Run a saved skill with arguments for its parameters."""
        try:
            result = await workspace.run_skill(
                name, arguments or {}, timeout=timeout, source="serve", session=session_of(ctx)
            )
        except (SnippetError, SessionLimitError) as exc:
            raise _fail(exc) from None
        return compact_run(result)

    @server.tool(annotations=ToolAnnotations(destructiveHint=False, idempotentHint=True, openWorldHint=False))
    def save_skill(
        name: Annotated[str, Field(description="lowercase-with-hyphens, 1 to 64 characters")],
        code: Annotated[str, Field(description="The Python code (may use its parameters as variables)")],
        description: Annotated[str, Field(description="One line saying what it does")],
        parameters: Annotated[
            list[dict[str, Any]] | None,
            Field(description='Parameters: [{"name", "type" (str|int|float|bool|list|dict|json), "default"?}]'),
        ] = None,
    ) -> dict[str, Any]:
        """Save code as a reusable skill (replaces a skill of the same name)."""
        try:
            params = [SnippetParam.from_dict(p) for p in parameters or []]
            snippet = Snippet(name=name, code=code, description=description, parameters=params)
            saved = workspace.snippets.save(snippet, tools=workspace.registry.list_tools())
        except (SnippetError, KeyError) as exc:
            raise _fail(exc) from None
        return {k: v for k, v in saved.to_dict().items() if k != "code"}

    return server


def compact_run(result: Any) -> dict[str, Any]:
    """A run as an agent needs it: output, value, error, notes and a short trace."""
    data = result.to_dict()
    return {
        "success": result.success,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "value": data["value"],
        "error": data["error"],
        "notes": result.notes,
        "duration": round(result.duration, 3),
        "trace": [
            {
                "tool": call.name,
                "ok": call.ok,
                "duration": round(call.duration or 0.0, 3),
                **({"error": call.error} if call.error else {}),
            }
            for call in result.trace
        ],
    }


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


class BearerAuth:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer <token>``, else 401.

    Compared in constant time; the token is never logged.  Runs outside the
    SDK's own Host/Origin checks, which stay in place.  A ``DELETE`` that ends
    an MCP session (after it is authorised) closes that session's sandbox.
    """

    def __init__(self, app: Any, token: str | None, on_session_end: Callable[[str], None] | None = None) -> None:
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
        await self.app(scope, receive, send)
        session = headers.get(b"mcp-session-id")
        if scope.get("method") == "DELETE" and session and self._on_session_end is not None:
            self._on_session_end(session.decode("latin-1"))


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


def _warm_imports() -> None:
    """Import what the SDK imports lazily on the first tool call (``jsonschema``: about 2 s).

    Done at start, so a fresh session's first call is as fast as the next.
    """
    for module in ("jsonschema", "jsonschema.validators", "jsonschema.exceptions"):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


async def _reap_idle_sessions(workspace: Workspace) -> None:
    """Close the sandboxes of sessions idle for longer than the workspace allows."""
    period = max(0.5, min(30.0, workspace.session_idle_timeout / 4))
    while True:
        await asyncio.sleep(period)
        for session in await workspace.close_idle_sessions():
            print(f"codemode-tui serve: session {session[:8]}: idle, sandbox closed", file=sys.stderr)


async def serve(
    workspace: Workspace,
    *,
    transport: Literal["stdio", "http"] = "stdio",
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_direct_calls: bool = False,
    token: str | None = None,
) -> None:
    """Discover every server, warm the sandbox, then serve until the client goes away.

    Over HTTP, ``token`` is the bearer token every request must carry
    (``None`` only for an explicit ``--no-auth``), and each MCP session gets a
    sandbox of its own, closed when the session ends or idles.
    """
    async with workspace:
        warm = asyncio.ensure_future(asyncio.to_thread(_warm_imports))
        outcomes = await workspace.start()
        for outcome in outcomes.values():
            state = f"{len(outcome.tools)} tools" if outcome.ok else f"failed: {outcome.error}"
            print(f"codemode-tui serve: {outcome.server}: {state}", file=sys.stderr)
        server = build_server(workspace, allow_direct_calls=allow_direct_calls)
        if transport == "stdio":
            await workspace.ensure_executor()
            await warm
            await server.run_stdio_async()
            return
        import uvicorn

        await warm
        app = server.streamable_http_app(
            host=host, session_idle_timeout=workspace.session_idle_timeout, max_sessions=workspace.max_sessions * 4
        )
        ended: set[asyncio.Task[bool]] = set()

        def end_session(session: str) -> None:
            task = asyncio.ensure_future(workspace.close_session(session))
            ended.add(task)
            task.add_done_callback(ended.discard)

        config = uvicorn.Config(BearerAuth(app, token, end_session), host=host, port=port, log_level="warning")
        reaper = asyncio.ensure_future(_reap_idle_sessions(workspace))
        print(f"codemode-tui serve: http://{host}:{port}/mcp", file=sys.stderr)
        try:
            await uvicorn.Server(config).serve()
        finally:
            reaper.cancel()
            with contextlib.suppress(BaseException):
                await reaper
