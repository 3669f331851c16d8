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

Other clients' files (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf)
are read by :func:`read_client_config`, which imports every entry it can and
says why it left out the others.  Their variables are resolved where each kind
belongs, so that no secret lands in our file:

- paths (``${workspaceFolder}``, ``${userHome}``) are filled at import time,
  because our file lives elsewhere and the folder would mean nothing there;
- environment variables stay placeholders in our one form, ``${VAR}`` or
  ``${VAR:-default}`` (``${env:VAR}`` is rewritten to it), and are filled by
  :meth:`MCPServerConfig.resolved` when the server connects;
- an ``envFile`` is kept as a path and read at connect time;
- VS Code ``${input:id}`` values given at import become ``${ID}`` with the
  value kept in memory for the session, or are written as is when the user
  asks for that (``save_inputs``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

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


PLACEHOLDER = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")
"""``${VAR}`` or ``${VAR:-default}``: the one placeholder form our servers file keeps."""


def _looks_like_sse(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith("/sse")


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
    env_file: str | None = Field(
        default=None,
        description="A dotenv file read at connect time; its variables join env (env wins). "
        "Written as ``envFile``, as VS Code and Cursor spell it.",
    )
    defer_loading: bool = Field(
        default=False,
        description="Keep this server's tools out of tool lists and the context budget unless asked for; "
        "search still finds them (``deferLoading`` in the file, as Anthropic's Tool Search has it).",
    )

    # Values given for this session only (VS Code inputs typed into the import dialog):
    # they fill ``${VAR}`` placeholders at connect time and are never written to a file.
    _session_values: dict[str, str] = PrivateAttr(default_factory=dict)

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
                # Claude Desktop, Cursor and Windsurf treat a URL ending in /sse as the SSE transport.
                self.transport = "sse" if _looks_like_sse(self.url) else "http"
            else:
                raise ValueError("give a 'command' (stdio server) or a 'url' (HTTP or SSE server)")
        if self.transport == "stdio" and not (self.command and self.command.strip()):
            raise ValueError("a stdio server needs a 'command'")
        if self.transport in ("http", "sse"):
            if not (self.url and self.url.strip()):
                raise ValueError(f"an {self.transport} server needs a 'url'")
            if not self.url.startswith(("http://", "https://", "${")):  # a placeholder is checked once filled
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
        if "envFile" in data:
            data["env_file"] = data.pop("envFile")
        if "serverUrl" in data and "url" not in data:  # Windsurf's spelling
            data["url"] = data.pop("serverUrl")
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
            elif _looks_like_sse(self.url or ""):
                entry["type"] = "http"  # else read back as SSE
            entry["url"] = self.url
            if self.headers:
                entry["headers"] = dict(self.headers)
        if self.env_file:
            entry["envFile"] = self.env_file
        if not self.enabled:
            entry["disabled"] = True
        if self.timeout != DEFAULT_TIMEOUT:
            entry["timeout"] = self.timeout
        if self.defer_loading:
            entry["deferLoading"] = True
        return entry

    # -- placeholders, filled at connect time ------------------------------------

    def placeholders(self) -> list[str]:
        """The ``${VAR}`` names this server needs at connect time (those with a default left out)."""
        found: list[str] = []
        for value in self._strings():
            for match in PLACEHOLDER.finditer(value):
                if match.group("default") is None and match.group("name") not in found:
                    found.append(match.group("name"))
        return found

    def unresolved(self, environ: Mapping[str, str] | None = None) -> list[str]:
        """The placeholders that nothing fills now: not a session value, not in ``environ``, not in the env file."""
        environ = os.environ if environ is None else environ
        try:
            from_file = read_env_file(Path(self.env_file), server=self.name) if self.env_file else {}
        except ConfigError:
            from_file = {}
        known = {*self._session_values, *environ, *from_file}
        return [name for name in self.placeholders() if name not in known]

    def with_session_values(self, values: Mapping[str, str]) -> MCPServerConfig:
        """A copy that fills ``${VAR}`` from ``values`` first, for this process only (never saved)."""
        copy = self.model_copy()
        copy._session_values = {**self._session_values, **values}
        return copy

    def resolved(self, environ: Mapping[str, str] | None = None) -> MCPServerConfig:
        """The config to connect with: placeholders filled, ``env_file`` read into ``env``.

        ``${VAR}`` and ``${VAR:-default}`` are looked up in this session's values,
        then ``environ`` (the process environment by default), then the env file.
        The servers file keeps the placeholders, so a secret read from the
        environment is never written out.  A missing variable raises
        :class:`ConfigError` naming the server, the field and the variable.
        """
        environ = os.environ if environ is None else environ
        from_file = read_env_file(Path(self.env_file), server=self.name) if self.env_file else {}
        lookup: dict[str, str] = {**from_file, **environ, **self._session_values}

        def fill(value: str, where: str) -> str:
            def sub(match: re.Match[str]) -> str:
                name, default = match.group("name"), match.group("default")
                found = lookup.get(name)
                if found is None or (found == "" and default is not None):
                    if default is not None:
                        return default
                    raise ConfigError(
                        f"needs the environment variable {name}; set it (or give a default as ${{{name}:-value}})",
                        server=self.name,
                        field=where,
                    )
                return found

            return PLACEHOLDER.sub(sub, value)

        def opt(value: str | None, where: str) -> str | None:
            return None if value is None else fill(value, where)

        env = dict(from_file)  # taken as written: a dotenv value is data, not a template
        env.update({k: fill(v, f"env.{k}") for k, v in self.env.items()})
        filled = self.model_copy(
            update={
                "command": opt(self.command, "command"),
                "args": [fill(arg, "args") for arg in self.args],
                "env": env,
                "cwd": opt(self.cwd, "cwd"),
                "url": opt(self.url, "url"),
                "headers": {k: fill(v, f"headers.{k}") for k, v in self.headers.items()},
                "env_file": None,
            }
        )
        if filled.url is not None and not filled.url.startswith(("http://", "https://")):
            raise ConfigError(
                f"url must start with http:// or https://, got {filled.url!r} once filled",
                server=self.name,
                field="url",
            )
        return filled

    def _strings(self) -> list[str]:
        values = [self.command or "", *self.args, *self.env.values(), self.cwd or "", self.url or ""]
        return values + list(self.headers.values())

    def summary(self) -> str:
        """One line a person recognises: the command line or the URL."""
        if self.transport == "stdio":
            return " ".join([self.command or "", *self.args]).strip()
        return self.url or ""


@dataclass(frozen=True)
class InputSpec:
    """One VS Code ``inputs`` entry: a value the user is asked for (``${input:id}``)."""

    id: str
    description: str = ""
    password: bool = False
    default: str | None = None


@dataclass
class ImportReport:
    """What an import did: servers added, names that already existed, entries that failed.

    ``failed`` maps a server name to the reason it was left out; ``missing_inputs``
    lists the VS Code inputs that had no value (give them with ``inputs=`` and
    import again); ``needs_env`` names, per imported server, the environment
    variables it reads at connect time that are not set now.
    """

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    missing_inputs: list[InputSpec] = field(default_factory=list)
    needs_env: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``servers import --json``)."""
        return {
            "added": self.added,
            "replaced": self.replaced,
            "conflicts": self.conflicts,
            "failed": self.failed,
            "missing_inputs": [
                {"id": spec.id, "description": spec.description, "password": spec.password}
                for spec in self.missing_inputs
            ],
            "needs_env": self.needs_env,
        }

    def lines(self, replace_hint: str = "tick Replace to overwrite") -> list[str]:
        """The report in words, one line per kind of outcome (the CLI and the playground show these)."""
        out = [f"added: {', '.join(self.added) or 'none'}"]
        if self.replaced:
            out.append(f"replaced: {', '.join(self.replaced)}")
        if self.conflicts:
            out.append(f"kept (names exist; {replace_hint}): {', '.join(self.conflicts)}")
        for name, reason in self.failed.items():
            out.append(f"not imported: {name}: {reason}")
        for name, names in self.needs_env.items():
            out.append(f"{name} reads {', '.join(names)} from the environment when it connects; set them first")
        return out


def parse_servers(text: str, *, file: Path | None = None) -> dict[str, MCPServerConfig]:
    """Parse an ``mcpServers`` document strictly: the first bad entry raises :class:`ConfigError`.

    This reads our own servers file, where a bad entry must stop us from
    overwriting it.  Other clients' files go through :func:`parse_client_config`,
    which imports what it can.  Comments and trailing commas (JSONC) are accepted.
    """
    doc = _load_document(text, file=file)
    servers, _ = _servers_section(doc, file=file)
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
    return parse_servers(_read_servers_text(path), file=path)


def _read_servers_text(path: Path) -> str:
    try:
        return read_user_file(path, what="servers file").decode("utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=path) from None
    except UserFileError as exc:
        raise ConfigError(str(exc), file=path) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc.strerror or exc})", file=path) from None


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
            elif merged[name].to_entry() != config.to_entry():  # session-only values do not count
                report.conflicts.append(name)
            continue
        merged[name] = config
        report.added.append(name)
    return merged, report


# -- reading other clients' files -------------------------------------------------


_JSONC_TOKEN = re.compile(
    r"""
      (?P<string>"(?:[^"\\\n]|\\.)*")
    | (?P<comment>//[^\n]*|/\*[\s\S]*?\*/)
    | (?P<open>/\*)
    | (?P<comma>,)(?=(?:\s|//[^\n]*|/\*[\s\S]*?\*/)*[}\]])
    """,
    re.VERBOSE,
)


def strip_jsonc(text: str) -> str:
    """JSON text from JSONC as VS Code writes it: ``//`` and ``/* */`` comments, trailing commas.

    Comments and dropped commas become spaces (newlines are kept), so a JSON
    error still points at the right line and column.  Text inside strings is
    never touched, so ``"https://x"`` keeps its slashes.
    """

    def blank(match: re.Match[str]) -> str:
        kind = match.lastgroup
        if kind == "string":
            return match.group(0)
        if kind == "open":
            line = text.count("\n", 0, match.start()) + 1
            raise ValueError(f"a /* comment that starts on line {line} is never closed")
        return re.sub(r"[^\n]", " ", match.group(0))

    return _JSONC_TOKEN.sub(blank, text)


def _load_document(text: str, *, file: Path | None) -> dict[str, Any]:
    try:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:  # maybe JSONC: strip its comments and trailing commas, and try again
            doc = json.loads(strip_jsonc(text))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", file=file) from None
    except RecursionError:
        raise ConfigError("JSON nested too deeply to read; a servers file is a few levels deep", file=file) from None
    except ValueError as exc:
        raise ConfigError(f"not valid JSON ({exc})", file=file) from None
    if not isinstance(doc, dict):
        raise ConfigError('expected a JSON object like {"mcpServers": {...}}', file=file)
    return doc


def _servers_section(doc: Mapping[str, Any], *, file: Path | None) -> tuple[dict[str, Any], Any]:
    """The servers object and the raw ``inputs`` list: ``mcpServers``, ``servers`` or VS Code's ``mcp.servers``."""
    where = "mcpServers"
    servers = doc.get("mcpServers")
    inputs = doc.get("inputs")
    if servers is None and "servers" in doc:
        servers, where = doc["servers"], "servers"
    if servers is None and isinstance(doc.get("mcp"), Mapping):  # VS Code settings.json
        servers, where = doc["mcp"].get("servers"), "mcp.servers"
        inputs = doc["mcp"].get("inputs", inputs)
    if servers is None:
        if doc:
            raise ConfigError('no "mcpServers", "servers" or "mcp.servers" object found', file=file, field="mcpServers")
        servers = {}
    if not isinstance(servers, dict):
        raise ConfigError("must be an object mapping server names to settings", file=file, field=where)
    return servers, inputs


def read_env_file(path: Path, *, server: str | None = None) -> dict[str, str]:
    """Variables from a dotenv file: ``KEY=value`` lines, ``export``, ``#`` comments, quotes.

    Read at connect time only, so the values stay in the user's file and never
    reach ours.
    """
    try:
        text = read_user_file(path, what="env file").decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"envFile {path} not found", server=server, field="envFile") from None
    except (UserFileError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read envFile {path} ({exc})", server=server, field="envFile") from None
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            continue
        value = value.strip()
        end = value.find(value[0], 1) if value[:1] in ("'", '"') else -1
        if end > 0:  # a quoted value: what follows the closing quote (a comment) is dropped
            quote, value = value[0], value[1:end]
            if quote == '"':
                value = value.replace("\\n", "\n")
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].rstrip()
        values[key] = value
    return values


def workspace_folder(file: Path) -> Path:
    """``${workspaceFolder}`` for a config file: the folder holding ``.vscode/`` (or ``.cursor/``), else its own."""
    folder = file.resolve().parent
    if folder.name in (".vscode", ".cursor", ".windsurf", ".codeium"):
        return folder.parent
    return folder


_TRANSLATED_KEYS = frozenset({"command", "args", "env", "cwd", "url", "serverUrl", "headers", "envFile"})
_CLIENT_VARIABLE = re.compile(r"\$\{(?P<body>[^}]*)\}")


@dataclass
class ClientConfig:
    """What :func:`parse_client_config` read: the servers it could build and those it could not."""

    servers: dict[str, MCPServerConfig] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    inputs: list[InputSpec] = field(default_factory=list)
    missing_inputs: list[InputSpec] = field(default_factory=list)


def _env_name(input_id: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "_", input_id).strip("_").upper()
    return name if name and not name[0].isdigit() else f"INPUT_{name}"


def _read_inputs(raw: Any) -> dict[str, InputSpec]:
    specs: dict[str, InputSpec] = {}
    if not isinstance(raw, list):
        return specs
    for item in raw:
        if isinstance(item, Mapping) and isinstance(item.get("id"), str):
            default = item.get("default")
            specs[item["id"]] = InputSpec(
                id=item["id"],
                description=str(item.get("description") or ""),
                password=bool(item.get("password", False)),
                default=default if isinstance(default, str) else None,
            )
    return specs


class _MissingInput(Exception):
    def __init__(self, input_id: str) -> None:
        self.input_id = input_id


def _translate(
    value: Any,
    *,
    folder: Path | None,
    inputs: Mapping[str, str],
    save_inputs: bool,
    session: dict[str, str],
) -> Any:
    """One value of a client's entry, its variables turned into what our file keeps.

    ``${env:VAR}`` becomes ``${VAR}`` (filled at connect time, never stored);
    ``${VAR}`` and ``${VAR:-default}`` stay; ``${workspaceFolder}``, ``${userHome}``
    and ``${pathSeparator}`` are paths and are filled now, since our file lives
    elsewhere; ``${input:id}`` becomes ``${ID}`` with the value kept for this
    session only, or the value itself when ``save_inputs``.
    """
    if isinstance(value, list):
        return [_translate(v, folder=folder, inputs=inputs, save_inputs=save_inputs, session=session) for v in value]
    if isinstance(value, dict):
        return {
            k: _translate(v, folder=folder, inputs=inputs, save_inputs=save_inputs, session=session)
            for k, v in value.items()
        }
    if not isinstance(value, str) or "${" not in value:
        return value

    def sub(match: re.Match[str]) -> str:
        body = match.group("body").strip()
        kind, _, arg = body.partition(":")
        if kind == "env" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", arg):
            return f"${{{arg}}}"
        if kind == "input" and arg:
            if arg not in inputs:
                raise _MissingInput(arg)
            if save_inputs:
                return inputs[arg]
            var = _env_name(arg)
            session[var] = inputs[arg]
            return f"${{{var}}}"
        if body in ("workspaceFolder", "workspaceRoot", "workspaceFolderBasename"):
            if folder is None:
                raise ValueError(f"${{{body}}} needs the file's location; import the file itself")
            return folder.name if body == "workspaceFolderBasename" else str(folder)
        if body == "userHome":
            return str(Path.home())
        if body in ("pathSeparator", "/"):
            return os.sep
        if PLACEHOLDER.fullmatch(match.group(0)):  # ${VAR} and ${VAR:-default} (Claude Code)
            return match.group(0)
        raise ValueError(f"the variable ${{{body}}} is not one we can fill (env:, input:, workspaceFolder, userHome)")

    return _CLIENT_VARIABLE.sub(sub, value)


def parse_client_config(
    text: str,
    *,
    file: Path | None = None,
    inputs: Mapping[str, str] | None = None,
    save_inputs: bool = False,
) -> ClientConfig:
    """Read another client's servers file, importing every entry that can be imported.

    Accepts Claude Desktop's and Cursor's ``mcpServers``, Claude Code's
    ``.mcp.json``, VS Code's ``.vscode/mcp.json`` (``servers`` and ``inputs``)
    and ``settings.json`` (``mcp.servers``), Windsurf's ``serverUrl``, with JSONC
    comments and trailing commas.  A bad entry is reported in ``failed`` by name
    with the reason and the others are kept; a document that is not JSON at all
    still raises :class:`ConfigError`.  ``inputs`` gives VS Code input values by
    id; a server using an input without a value is left out and the input is
    listed in ``missing_inputs`` (its default, when the file gives one, is used).
    """
    doc = _load_document(text, file=file)
    servers, raw_inputs = _servers_section(doc, file=file)
    specs = _read_inputs(raw_inputs)
    given = {spec.id: spec.default for spec in specs.values() if spec.default is not None}
    given.update(inputs or {})
    folder = workspace_folder(file) if file is not None else None
    result = ClientConfig()
    missing: dict[str, InputSpec] = {}
    used: dict[str, InputSpec] = {}
    modules: dict[str, str] = {}
    for name, entry in servers.items():
        session: dict[str, str] = {}
        fields = {k: v for k, v in entry.items() if k in _TRANSLATED_KEYS} if isinstance(entry, Mapping) else {}
        for input_id in _input_ids(fields):
            used.setdefault(input_id, specs.get(input_id, InputSpec(id=input_id)))
        try:
            data: Any = entry
            if isinstance(entry, Mapping):  # only the fields we use: another client's extras may hold anything
                translated = _translate(fields, folder=folder, inputs=given, save_inputs=save_inputs, session=session)
                data = {**entry, **translated}
                if isinstance(data.get("envFile"), str) and folder is not None:
                    data["envFile"] = str(folder / Path(data["envFile"]).expanduser())
            config = MCPServerConfig.from_entry(name, data, file=file)
        except _MissingInput as exc:
            spec = specs.get(exc.input_id, InputSpec(id=exc.input_id))
            missing.setdefault(spec.id, spec)
            about = f" ({spec.description})" if spec.description else ""
            result.failed[name] = f"needs a value for the input {spec.id!r}{about}"
            continue
        except ConfigError as exc:
            result.failed[name] = f"field {exc.field!r}: {exc.detail}" if exc.field else exc.detail
            continue
        except ValueError as exc:
            result.failed[name] = str(exc)
            continue
        module = sanitize_identifier(name, fallback="server")
        if module in modules:
            result.failed[name] = f"becomes the Python module {module!r}, as {modules[module]!r} does; rename one"
            continue
        modules[module] = name
        result.servers[name] = config.with_session_values(session) if session else config
    result.inputs = list(used.values())
    result.missing_inputs = list(missing.values())
    return result


def _input_ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [m.group(1) for m in re.finditer(r"\$\{input:([^}]+)\}", value)]
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list):
        return [found for item in value for found in _input_ids(item)]
    return []


def read_client_config(
    path: Path,
    *,
    inputs: Mapping[str, str] | None = None,
    save_inputs: bool = False,
) -> ClientConfig:
    """Read another client's servers file from disk (see :func:`parse_client_config`)."""
    path = Path(path)
    return parse_client_config(_read_servers_text(path), file=path, inputs=inputs, save_inputs=save_inputs)


def parse_input_values(items: Iterable[str]) -> dict[str, str]:
    """``["id=value", ...]`` (the command line's ``--input``) as a mapping; the value may hold ``=``."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--input takes id=value, got {item!r}")
        values[key.strip()] = value
    return values
