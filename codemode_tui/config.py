"""Server configuration: ``MCPServerConfig`` and the ``mcpServers`` JSON file.

The file shape is the one Claude Desktop, Cursor and VS Code already use, so a
user's existing file can be imported as is and ours can be copied out::

    {"mcpServers": {
        "fs":  {"command": "npx", "args": ["-y", "..."], "env": {"K": "V"}},
        "api": {"url": "https://example.com/mcp", "headers": {"Authorization": "..."}},
        "old": {"type": "sse", "url": "http://localhost:8000/sse"}
    }}

A file that does not parse is reported with the file, the server and the field
at fault, and is never overwritten.  Hostile files get the same treatment, never
a traceback, a hang or a memory blow-up: a folder, a FIFO or a device given as
the path, a file over the size cap, JSON nested too deeply to parse, and two
server names that become the same Python module (``a-b`` and ``a_b``).

:func:`update_servers` is the one way to change a servers file: under a file lock
it re-reads the file, applies the change to what it finds and writes the result,
so two processes changing the file at once both keep their change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .files import UserFileError, atomic_write_text, file_lock, read_user_file
from .names import sanitize_identifier

Transport = Literal["stdio", "http", "sse"]
DEFAULT_TIMEOUT = 30.0

# Spellings of the transport seen in the wild (VS Code, Claude Code, Cursor...).
_TRANSPORT_ALIASES: dict[str, Transport] = {
    "stdio": "stdio",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "streamablehttp": "http",
    "sse": "sse",
}


class ConfigError(ValueError):
    """A configuration problem, phrased for the person who has to fix it."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | None = None,
        server: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.server = server
        self.field = field
        self.detail = message
        where = []
        if file is not None:
            where.append(str(file))
        if server is not None:
            where.append(f"server {server!r}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class MCPServerConfig(BaseModel):
    """How to reach one MCP server.

    ``transport`` is inferred when omitted: a ``command`` means stdio, a ``url``
    means streamable HTTP.  ``timeout`` bounds connecting, listing tools and
    each tool call, in seconds.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    name: str = Field(description="Unique name; also the module name of the server's bindings.")
    transport: Transport | None = Field(default=None, description="stdio, http (streamable HTTP) or sse.")
    command: str | None = Field(default=None, description="Program to start (stdio).")
    args: list[str] = Field(default_factory=list, description="Arguments of the command (stdio).")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables (stdio).")
    cwd: str | None = Field(default=None, description="Working folder of the command (stdio).")
    url: str | None = Field(default=None, description="Endpoint URL (http, sse).")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP headers (http, sse).")
    enabled: bool = Field(default=True, description="Disabled servers are kept but not connected.")
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, description="Seconds for connect, list and call.")
    defer_loading: bool = Field(
        default=False,
        description="Keep this server's tools out of tool lists and the context budget unless asked for; "
        "search still finds them (``deferLoading`` in the file, as Anthropic's Tool Search has it).",
    )

    @model_validator(mode="before")
    @classmethod
    def _normalise_transport(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("transport"), str):
            alias = _TRANSPORT_ALIASES.get(data["transport"].strip().lower())
            if alias is not None:
                data = {**data, "transport": alias}
        return data

    @model_validator(mode="after")
    def _check(self) -> MCPServerConfig:
        if not self.name or not self.name.strip():
            raise ValueError("name must not be empty")
        if self.transport is None:
            if self.command:
                self.transport = "stdio"
            elif self.url:
                self.transport = "http"
            else:
                raise ValueError("give a 'command' (stdio server) or a 'url' (HTTP or SSE server)")
        if self.transport == "stdio" and not (self.command and self.command.strip()):
            raise ValueError("a stdio server needs a 'command'")
        if self.transport in ("http", "sse"):
            if not (self.url and self.url.strip()):
                raise ValueError(f"an {self.transport} server needs a 'url'")
            if not self.url.startswith(("http://", "https://")):
                raise ValueError(f"url must start with http:// or https://, got {self.url!r}")
        return self

    # -- the mcpServers shape -------------------------------------------------

    @classmethod
    def from_entry(cls, name: str, entry: Mapping[str, Any], *, file: Path | None = None) -> MCPServerConfig:
        """Build a config from one ``mcpServers`` entry, with errors that say where."""
        if not isinstance(entry, Mapping):
            raise ConfigError(
                f"expected an object with 'command' or 'url', got {type(entry).__name__}",
                file=file,
                server=name,
            )
        data = dict(entry)
        kind = data.pop("type", None)
        if kind is not None and "transport" not in data:
            data["transport"] = kind
        if "disabled" in data:
            data["enabled"] = not bool(data.pop("disabled"))
        if "deferLoading" in data:
            data["defer_loading"] = data.pop("deferLoading")
        # Keys other clients write that mean nothing to us are ignored, not fatal.
        known = set(cls.model_fields) - {"name"}
        ignored = {key: data.pop(key) for key in list(data) if key not in known}
        del ignored
        try:
            return cls(name=name, **data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(part) for part in err.get("loc", ()) if part != "__root__") or None
            message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            raise ConfigError(message, file=file, server=name, field=loc) from None

    def to_entry(self) -> dict[str, Any]:
        """The ``mcpServers`` entry for this server (no name: it is the key)."""
        entry: dict[str, Any] = {}
        if self.transport == "stdio":
            entry["command"] = self.command
            if self.args:
                entry["args"] = list(self.args)
            if self.env:
                entry["env"] = dict(self.env)
            if self.cwd:
                entry["cwd"] = self.cwd
        else:
            if self.transport == "sse":
                entry["type"] = "sse"
            entry["url"] = self.url
            if self.headers:
                entry["headers"] = dict(self.headers)
        if not self.enabled:
            entry["disabled"] = True
        if self.timeout != DEFAULT_TIMEOUT:
            entry["timeout"] = self.timeout
        if self.defer_loading:
            entry["deferLoading"] = True
        return entry

    def summary(self) -> str:
        """One line a person recognises: the command line or the URL."""
        if self.transport == "stdio":
            return " ".join([self.command or "", *self.args]).strip()
        return self.url or ""


@dataclass
class ImportReport:
    """What an import did: servers added, and names that already existed."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def parse_servers(text: str, *, file: Path | None = None) -> dict[str, MCPServerConfig]:
    """Parse an ``mcpServers`` document (also accepts VS Code's ``servers`` key)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", file=file) from None
    except RecursionError:
        raise ConfigError("JSON nested too deeply to read; a servers file is a few levels deep", file=file) from None
    if not isinstance(doc, dict):
        raise ConfigError('expected a JSON object like {"mcpServers": {...}}', file=file)
    servers = doc.get("mcpServers", doc.get("servers"))
    if servers is None:
        if doc:
            raise ConfigError('no "mcpServers" object found', file=file, field="mcpServers")
        servers = {}
    if not isinstance(servers, dict):
        raise ConfigError("must be an object mapping server names to settings", file=file, field="mcpServers")
    parsed = {name: MCPServerConfig.from_entry(name, entry, file=file) for name, entry in servers.items()}
    check_module_names(parsed, file=file)
    return parsed


def check_module_names(servers: Iterable[str], *, file: Path | None = None) -> None:
    """Refuse two server names that become the same bindings module (``a-b`` and ``a_b``)."""
    seen: dict[str, str] = {}
    for name in servers:
        module = sanitize_identifier(name, fallback="server")
        if module in seen:
            raise ConfigError(
                f"server names {seen[module]!r} and {name!r} both become the Python module {module!r}; rename one",
                file=file,
                server=name,
            )
        seen[module] = name


def load_servers(path: Path) -> dict[str, MCPServerConfig]:
    """Read a servers file; raises :class:`ConfigError` and leaves the file alone."""
    path = Path(path)
    try:
        text = read_user_file(path, what="servers file").decode("utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=path) from None
    except UserFileError as exc:
        raise ConfigError(str(exc), file=path) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc.strerror or exc})", file=path) from None
    return parse_servers(text, file=path)


def dump_servers(servers: Iterable[MCPServerConfig]) -> str:
    """The ``mcpServers`` JSON text for ``servers``."""
    doc = {"mcpServers": {server.name: server.to_entry() for server in servers}}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def save_servers(path: Path, servers: Iterable[MCPServerConfig]) -> None:
    """Write the servers file atomically (replacing it: use :func:`update_servers` to change one)."""
    atomic_write_text(Path(path), dump_servers(servers))


ServersChange = Callable[[dict[str, MCPServerConfig]], None]
"""A change to a servers file: mutates the mapping read from it, or raises :class:`ConfigError`."""


def update_servers(path: Path, change: ServersChange) -> dict[str, MCPServerConfig]:
    """Apply ``change`` to the servers file as it is now, under a lock; returns what was written.

    A missing file counts as empty.  A file that does not parse raises
    :class:`ConfigError` and is left alone.
    """
    path = Path(path)
    with file_lock(path):
        current = load_servers(path) if os.path.lexists(path) else {}
        change(current)
        check_module_names(current, file=path)
        atomic_write_text(path, dump_servers(current.values()))
    return current


def merge_servers(
    current: Mapping[str, MCPServerConfig],
    incoming: Mapping[str, MCPServerConfig],
    *,
    replace: bool = False,
) -> tuple[dict[str, MCPServerConfig], ImportReport]:
    """Merge ``incoming`` into ``current``; existing names are conflicts unless ``replace``."""
    merged = dict(current)
    report = ImportReport()
    for name, config in incoming.items():
        if name in merged:
            if replace:
                merged[name] = config
                report.replaced.append(name)
            elif merged[name] != config:
                report.conflicts.append(name)
            continue
        merged[name] = config
        report.added.append(name)
    return merged, report
