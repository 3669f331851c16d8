"""The ``codemode-tui`` command.

With no sub-command it opens the playground.  Every sub-command drives the
engine through :class:`~codemode_tui.workspace.Workspace`; ``--config FILE``
uses an ``mcpServers`` file in place of the saved configuration.  Progress goes
to stderr; ``--json`` prints machine-readable output on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import ConfigError, MCPServerConfig
from .workspace import Workspace

Handler = Callable[[argparse.Namespace], int]


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _workspace(args: argparse.Namespace) -> Workspace:
    workspace = Workspace(args.config)
    if workspace.load_error is not None:
        raise ConfigError(str(workspace.load_error))
    return workspace


async def _discover(workspace: Workspace) -> None:
    outcomes = await workspace.start()
    for outcome in outcomes.values():
        if outcome.ok:
            _err(f"{outcome.server}: {len(outcome.tools)} tools")
        else:
            _err(f"{outcome.server}: failed: {outcome.error}")


# -- playground and demo server --------------------------------------------------


def cmd_tui(args: argparse.Namespace) -> int:
    from .tui.app import run_app  # imported here: the engine never loads Textual

    return run_app(config_path=args.config)


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
    command, url = (args.target, None) if not args.target.startswith(("http://", "https://")) else (None, args.target)
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
    workspace = _workspace(args)
    report = workspace.import_servers(Path(args.file), replace=args.replace)
    if args.json:
        _print_json({"added": report.added, "replaced": report.replaced, "conflicts": report.conflicts})
    else:
        _err(f"added: {', '.join(report.added) or 'none'}")
        if report.replaced:
            _err(f"replaced: {', '.join(report.replaced)}")
        if report.conflicts:
            _err(f"kept existing (use --replace to overwrite): {', '.join(report.conflicts)}")
    return 0


def cmd_servers_export(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    workspace.export_servers(Path(args.file))
    _err(f"wrote {len(workspace.servers)} servers to {args.file}")
    return 0


# -- tools -----------------------------------------------------------------------


def cmd_tools(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with _workspace(args) as workspace:
            await _discover(workspace)
            tools = workspace.registry.list_tools(args.server)
            if args.json:
                _print_json([tool.to_dict() for tool in tools])
            else:
                for tool in tools:
                    first = (tool.description or "").strip().splitlines()[:1]
                    print(f"{tool.qualified_name:<40} {first[0] if first else ''}")
            return 0

    return asyncio.run(go())


# -- parser ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codemode-tui",
        description=(
            "MCP Code Mode: explore MCP servers, generate typed Python bindings "
            "and run code that composes their tools."
        ),
        epilog="With no command, opens the playground on the saved servers (the bundled demo server on first start).",
    )
    parser.add_argument("--version", action="version", version=f"codemode-tui {__version__}")
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="use this mcpServers JSON file instead of the saved configuration"
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
    p = command("add", cmd_servers_add, "add a server: a command (stdio) or a URL (http/sse)", servers_sub)
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
        "merge servers from an mcpServers JSON file (Claude Desktop, Cursor, VS Code)",
        servers_sub,
    )
    p.add_argument("file")
    p.add_argument("--replace", action="store_true", help="overwrite servers whose names already exist")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p = command("export", cmd_servers_export, "write the servers as an mcpServers JSON file", servers_sub)
    p.add_argument("file")

    p = command("tools", cmd_tools, "connect to the servers and list their tools")
    p.add_argument("--server", metavar="NAME", help="only this server's tools")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "config"):
        args.config = None
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        _err(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130
