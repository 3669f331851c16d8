"""Export a snippet as an Agent Skill folder, and import one back.

``export_skill`` writes ``<out>/<name>/``::

    SKILL.md                   frontmatter (name, description, allowed-tools, ...) and instructions
    scripts/<name_>.py         runs on its own: parameters as flags, servers from servers.json
    scripts/servers.json       the servers it needs, in mcpServers shape, secrets replaced by ${VAR}
    references/tools.md        the signatures of the tools it calls
    tests/recording.json       (a snippet saved from a run) that run's tool traffic, secrets redacted
    tests/test_<name_>.py      a pytest test replaying the script against it: no server needed

A snippet saved from a recorded run keeps a copy of the recording beside it
(:func:`fixture_path`), so the exported skill ships with a regression test that
runs offline: a change to the script that makes other calls, or calls with other
arguments, fails it as a divergence.

Frontmatter values are plain one-line scalars without ``: `` so that both the
strict YAML loaders and the simple line-splitting ones agree on them.
"""

from __future__ import annotations

import ast
import contextlib
import json
import keyword
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import PLACEHOLDER, ConfigError, MCPServerConfig, dump_servers, parse_servers
from ..files import read_user_file
from .model import ParamType, Snippet, SnippetError, SnippetParam, check_description, check_name

if TYPE_CHECKING:
    from ..executor.recording import Recording
    from ..tool_types import ToolDefinition

SCRIPT_MARKER = "# codemode-tui skill script"
_PYTHON_COMMANDS = {"python", "python3"}


def script_name(name: str) -> str:
    """``summarize-notes`` -> ``summarize_notes`` (the script's file stem)."""
    return name.replace("-", "_")


# Flag and parameter names whose value is a secret: --token X, --api-key=X, ?access_token=X, password=X.
_SECRET_NAME = re.compile(
    r"(?:^|[-_.])(?:token|secret|password|passwd|pwd|auth|authorization|credentials?|bearer|cookie|session)$"
    r"|(?:^|[-_.])(?:api|access|private|client|secret|auth|app|master|signing|encryption)[-_.]?key$"
    r"|^(?:key|apikey|api_key|pat|sig|signature|access_token|refresh_token|id_token)$",
    re.IGNORECASE,
)
# Values that are keys whatever their flag: vendor prefixes, JWTs, AWS key ids.
_KEY_SHAPES = re.compile(
    r"^(?:sk|pk|rk)[-_][A-Za-z0-9_\-]{12,}$"
    r"|^(?:gh[pousr]_|github_pat_|glpat-|xox[abposr]-|hf_|npm_|AIza|ya29\.)[A-Za-z0-9_\-.]{12,}$"
    r"|^AKIA[0-9A-Z]{16}$"
    r"|^eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*$"
)
_HEADER_ARG = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):\s*(\S.*)$")
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_\-+/=]+$")
"""``${VAR}`` (or ``${VAR:-default}``): the placeholder an exported servers file uses for a secret."""


def env_var_name(*parts: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", "_".join(parts).upper()).strip("_")


def is_secret_name(name: str) -> bool:
    """Whether a flag, header, query or ``NAME=`` parameter called ``name`` carries a secret."""
    return bool(_SECRET_NAME.search(name.strip("-")))


def looks_like_key(value: str) -> bool:
    """Whether ``value`` looks like a credential by its shape alone.

    Vendor prefixes (``sk-``, ``ghp_``, ``xoxb-``, ...), JWTs, AWS key ids, and
    long high-entropy tokens: 24+ characters of a token alphabet mixing letters
    and digits with at least 3.5 bits of entropy per character (names, paths,
    versions and package specs fall short of that).
    """
    if PLACEHOLDER.fullmatch(value):
        return False
    if _KEY_SHAPES.match(value):
        return True
    if len(value) < 24 or not _TOKEN_CHARS.match(value) or value.startswith("/"):
        return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    counts = {c: value.count(c) for c in set(value)}
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 3.5


class _Redactor:
    """Hands out one ``${VAR}`` per secret of a server and remembers which variables a user must set."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.needed: list[str] = []

    def placeholder(self, *parts: str) -> str:
        base = env_var_name(self.server, *parts)
        name, n = base, 2
        while name in self.needed:
            name, n = f"{base}_{n}", n + 1
        self.needed.append(name)
        return f"${{{name}}}"

    def secret(self, value: str, *parts: str) -> str:
        """``value`` itself, or its placeholder when it is a secret that is not one already."""
        if not value or self.keeps(value):
            return value
        return self.placeholder(*parts)

    def keeps(self, value: str) -> bool:
        """Whether ``value`` holds no secret of its own: only ``${VAR}`` placeholders (and an auth scheme).

        ``Bearer ${GITHUB_TOKEN}`` stays as it is; its variable joins the ones to set.
        """
        found = [m.group(1) for m in PLACEHOLDER.finditer(value) if m.group(2) is None]
        residue = PLACEHOLDER.sub("", value).strip().lower()
        if not found or residue not in ("", "bearer", "basic", "token"):
            return False
        self.needed += [var for var in found if var not in self.needed]
        return True

    def url(self, url: str) -> str:
        """A URL with userinfo and secret query values replaced (the rest kept byte for byte)."""
        scheme, sep, rest = url.partition("://")
        if not sep:
            return url
        authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        authority, tail = rest[:authority_end], rest[authority_end:]
        if "@" in authority:
            userinfo, _, host = authority.rpartition("@")
            user, colon, password = userinfo.partition(":")
            if colon:
                if looks_like_key(user):
                    user = self.secret(user, "URL", "USER")
                userinfo = f"{user}:{self.secret(password, 'URL', 'PASSWORD')}"
            else:
                userinfo = self.secret(user, "URL", "TOKEN")  # https://TOKEN@host: a token as the user
            authority = f"{userinfo}@{host}"
        path, qmark, query = tail.partition("?")
        if qmark:
            query, hash_, fragment = query.partition("#")
            fields = []
            for field in query.split("&"):
                key, eq, value = field.partition("=")
                if eq and value and (is_secret_name(key) or looks_like_key(value)):
                    value = self.secret(value, "URL", key)
                fields.append(f"{key}{eq}{value}")
            tail = f"{path}?{'&'.join(fields)}{hash_}{fragment}"
        return f"{scheme}://{authority}{tail}"

    def args(self, args: list[str]) -> list[str]:
        """Command-line arguments with the values of secret flags and key-like values replaced."""
        out: list[str] = []
        secret_next: str | None = None
        for index, arg in enumerate(args):
            if secret_next is not None:
                flag, secret_next = secret_next, None
                if not arg.startswith("-"):
                    out.append(self.secret(arg, flag))
                    continue
            if "://" in arg:
                out.append(self.url(arg))
                continue
            name, eq, value = arg.partition("=")
            if eq and value and re.fullmatch(r"-{0,2}[A-Za-z][A-Za-z0-9_.\-]*", name):
                if is_secret_name(name) or looks_like_key(value):  # --token=X, --api-key=X, api_key=X
                    out.append(f"{name}={self.secret(value, name)}")
                elif "://" in value:
                    out.append(f"{name}={self.url(value)}")
                else:
                    out.append(arg)
                continue
            if arg.startswith("-") and not eq:
                following = args[index + 1] if index + 1 < len(args) else ""
                if is_secret_name(arg) or (looks_like_key(following) and not following.startswith("-")):
                    secret_next = arg  # --token X, -k X (when X looks like a key)
                out.append(arg)
                continue
            header = _HEADER_ARG.match(arg)
            if header and is_secret_name(header.group(1)):  # --header "Authorization: Bearer X"
                scheme, _, credential = header.group(2).rpartition(" ")
                value = self.secret(credential, header.group(1))
                out.append(f"{header.group(1)}: {scheme + ' ' if scheme else ''}{value}")
            elif looks_like_key(arg):
                out.append(self.secret(arg, "ARG", str(index)))
            else:
                out.append(arg)
        return out


def redact_server(config: MCPServerConfig) -> tuple[MCPServerConfig, list[str]]:
    """A copy of ``config`` with its secrets replaced by ``${VAR}`` placeholders.

    Every env and header value is replaced; so are the values of secret-named
    flags (``--token X``, ``--api-key=X``), argument values that look like keys
    (``-k sk-...``, a bare JWT or high-entropy token), secret query values and
    the userinfo of URLs (in ``url`` and in arguments).  Returns the copy and the
    variable names a user must set to run it, which :func:`expand_server` fills
    back in at run time.  The interpreter that runs codemode-tui itself is
    written as ``python`` so the file works on another machine.
    """
    redactor = _Redactor(config.name)
    # Env keys are the variable names themselves (``GITHUB_TOKEN`` stays ``${GITHUB_TOKEN}``).
    env = {}
    for key, value in config.env.items():
        if not redactor.keeps(value):
            env[key] = f"${{{key}}}"
            if key not in redactor.needed:
                redactor.needed.append(key)
        else:
            env[key] = value
    headers = {
        key: value if redactor.keeps(value) else redactor.placeholder(key) for key, value in config.headers.items()
    }
    args = redactor.args(list(config.args))
    url = redactor.url(config.url) if config.url else config.url
    command = config.command
    if command == sys.executable:
        command = "python"
    update = {"env": env, "headers": headers, "command": command, "args": args, "url": url}
    return config.model_copy(update=update), redactor.needed


def expand_server(config: MCPServerConfig, environ: Mapping[str, str]) -> MCPServerConfig:
    """Fill ``${VAR}`` placeholders (env, headers, arguments, URL) from ``environ``.

    The same filling a connection does (:meth:`MCPServerConfig.resolved`); a
    missing variable without a ``:-default`` is a clear error naming it.  A
    bare ``python`` command becomes this interpreter, so the script runs the
    servers with the Python it runs on.
    """
    try:
        filled = config.resolved(environ)
    except ConfigError as exc:
        raise SnippetError(str(exc)) from None
    if filled.command in _PYTHON_COMMANDS:
        filled = filled.model_copy(update={"command": sys.executable})
    return filled


def _frontmatter(snippet: Snippet, allowed: list[str], license: str | None) -> str:
    lines = ["---", f"name: {snippet.name}", f"description: {snippet.description}"]
    if license:
        lines.append(f"license: {license}")
    lines.append("compatibility: Requires Python 3.11+ with codemode-tui installed and the MCP servers in servers.json")
    if allowed:
        lines.append(f"allowed-tools: {' '.join(allowed)}")
    lines += ["metadata:", "  generator: codemode-tui", "---", ""]
    return "\n".join(lines)


def _param_flag(param: SnippetParam) -> str:
    return "--" + param.name.replace("_", "-")


def _body(snippet: Snippet, needed_env: list[str], servers: list[str]) -> str:
    stem = script_name(snippet.name)
    out = [f"# {snippet.name}", "", snippet.description, ""]
    out += ["## Parameters", ""]
    if snippet.parameters:
        for p in snippet.parameters:
            default = f", default {json.dumps(p.default)}" if p.has_default else ", required"
            desc = f" - {p.description}" if p.description else ""
            out.append(f"- `{_param_flag(p)}` ({p.type}{default}){desc}")
    else:
        out.append("None.")
    out += ["", "## How to run", "", "```bash", f"python scripts/{stem}.py"]
    out[-1] += "".join(f" {_param_flag(p)} VALUE" for p in snippet.parameters if p.required)
    out += ["```", ""]
    out.append(
        "The script connects to the MCP servers it needs (listed in `scripts/servers.json`) through the "
        "codemode-tui engine, runs the code in a sandbox and prints its output. "
        "`--json` prints the output, the result and the tool-call trace as JSON."
    )
    example = {p.name: p.default if p.has_default else "..." for p in snippet.parameters if p.required}
    out += [
        "",
        f"Under agent-skills, call `run_skill_script` with `script_name` `{stem}` and the parameters as "
        f"`kwargs` (for example `{json.dumps(example)}`); the script finds its servers without `servers.json`.",
    ]
    out += ["", "## Servers", ""]
    out += [f"- {name}" for name in servers] or ["None."]
    if needed_env:
        out += ["", "## Required Environment Variables", ""]
        out += [f"- `{var}`" for var in needed_env]
    out += ["", "## Tools", "", "The signatures of the tools it calls are in `references/tools.md`.", ""]
    return "\n".join(out)


def _literal(value: Any) -> str:
    """``repr(value)`` that never spells ``await `` or ``async `` (see :func:`_script`)."""
    return repr(value).replace("await ", "await\\x20").replace("async ", "async\\x20")


def _script(snippet: Snippet, servers_json: str) -> str:
    """The exported script: a few literals and a call into the installed engine.

    It must run both as ``python scripts/x.py`` and under agent-skills' runner,
    which pastes the script into a string, execs it with a bare ``__file__``
    (``x.py``, relative to wherever the agent runs) and, in its eval sandbox,
    indents the whole cell into an ``async def`` as soon as the text contains
    ``await `` or ``async ``.  So the script has no async code of its own (the
    engine runs the event loop) and its string literals spell those words with an
    escaped space; and it carries a copy of its servers (``SERVERS``), used when
    ``servers.json`` is not beside a real ``__file__``.
    """
    params = [p.to_dict() for p in snippet.parameters]
    usage = f"python scripts/{script_name(snippet.name)}.py" + "".join(
        f" {_param_flag(p)} VALUE" for p in snippet.parameters if p.required
    )
    doc = f"{snippet.description}\n\nUsage: {usage}\n\nRun with --help for every parameter. Needs codemode-tui."
    text = (
        "#!/usr/bin/env python3\n"
        f"{SCRIPT_MARKER}\n"
        f"{_literal(doc)}\n\n"
        "import sys\n\n"
        f"NAME = {_literal(snippet.name)}\n"
        f"DESCRIPTION = {_literal(snippet.description)}\n"
        f"PARAMETERS = {_literal(params)}\n"
        f"CODE = {_literal(snippet.code)}\n"
        f"SERVERS = {_literal(servers_json)}\n\n"
        'if __name__ == "__main__":\n'
        "    from codemode_tui.snippets.skill_runtime import run_script\n"
        "    from codemode_tui.snippets.skills import servers_file\n"
        "    from codemode_tui.terminal_text import sanitized_output\n\n"
        "    with sanitized_output(), servers_file(__file__, SERVERS) as servers:\n"
        "        status = run_script(NAME, DESCRIPTION, PARAMETERS, CODE, servers)\n"
        "    sys.exit(status)\n"
    )
    assert "await " not in text and "async " not in text
    return text


@contextlib.contextmanager
def servers_file(script_file: str, embedded: str) -> Iterator[Path]:
    """The servers file an exported script runs with.

    ``servers.json`` beside the script when ``script_file`` really is the script
    (so a user's edits to it count); otherwise (agent-skills' runner gives a bare
    ``x.py`` that is relative to nowhere) the copy embedded in the script, in a
    private temporary file removed afterwards.
    """
    here = Path(script_file)
    beside = here.with_name("servers.json")
    try:
        is_script = here.is_file() and SCRIPT_MARKER in here.read_text(encoding="utf-8", errors="replace")
    except OSError:
        is_script = False
    if is_script and beside.is_file():
        yield beside
        return
    fd, name = tempfile.mkstemp(prefix="codemode-skill-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(embedded)
        yield Path(name)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _references(tools: list[ToolDefinition], signature: Callable[[ToolDefinition], str] | None) -> str:
    out = ["# Tools", "", "The MCP tools this skill calls, as typed Python bindings.", ""]
    for tool in tools:
        out += [f"## {tool.qualified_name}", ""]
        out += [f"`from generated.servers.{tool.server_module} import {tool.python_name}`", ""]
        if signature is not None:
            out += ["```python", signature(tool), "```", ""]
        if tool.description:
            out += [tool.description.strip(), ""]
    return "\n".join(out)


def export_skill(
    snippet: Snippet,
    out_dir: Path,
    *,
    servers: Mapping[str, MCPServerConfig],
    tools: Iterable[ToolDefinition] = (),
    license: str | None = None,
    overwrite: bool = False,
    fixture: Mapping[str, Any] | None = None,
) -> Path:
    """Write the skill folder ``out_dir/<name>/`` and return its path.

    ``fixture``: the snippet's recording (:func:`load_fixture`); written, with
    its secrets redacted, as ``tests/recording.json`` beside a pytest test that
    replays the script against it.  The folder is built beside its destination
    and moved into place at the end, so a failure never leaves half a skill (or
    touches an existing one).
    """
    check_name(snippet.name)
    check_description(snippet.description)
    target = Path(out_dir) / snippet.name
    if target.exists() and not overwrite:
        raise SnippetError(f"{target} already exists; remove it or export with overwrite")
    known = {t.qualified_name: t for t in tools}
    called = [known[q] for q in snippet.tools if q in known]
    missing = [s for s in snippet.servers if s not in servers]
    if missing:
        raise SnippetError(f"the snippet needs server(s) {', '.join(missing)}, which are not configured")
    redacted: list[MCPServerConfig] = []
    needed_env: list[str] = []
    for name in snippet.servers:
        config, env = redact_server(servers[name])
        redacted.append(config)
        needed_env += env
    signature: Callable[[ToolDefinition], str] | None
    try:
        from ..codegen import signature as signature
    except ImportError:  # bindings not available: references list names and descriptions
        signature = None

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{snippet.name}.", dir=out_dir))
    try:
        (staging / "scripts").mkdir()
        (staging / "references").mkdir()
        allowed = list(snippet.tools)
        (staging / "SKILL.md").write_text(
            _frontmatter(snippet, allowed, license)
            + _body(snippet, needed_env, snippet.servers)
            + (_TESTS_NOTE if fixture is not None else ""),
            encoding="utf-8",
        )
        servers_json = dump_servers(redacted)
        script = _script(snippet, servers_json)
        (staging / "scripts" / f"{script_name(snippet.name)}.py").write_text(script, encoding="utf-8")
        (staging / "scripts" / "servers.json").write_text(servers_json, encoding="utf-8")
        (staging / "references" / "tools.md").write_text(_references(called, signature), encoding="utf-8")
        if fixture is not None:
            (staging / "tests").mkdir()
            shipped = json.dumps(redact_fixture(dict(fixture)), ensure_ascii=False, indent=1)
            (staging / "tests" / "recording.json").write_text(shipped, encoding="utf-8")
            test_file = staging / "tests" / f"test_{script_name(snippet.name)}.py"
            test_file.write_text(_fixture_test(snippet), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


# -- fixtures: the recording a snippet was saved from ------------------------------

#: What an argument holding a secret is replaced by, in an exported recording and in its replay alike.
REDACTED = "[redacted]"
FIXTURE_SUFFIX = ".recording.json"


def fixture_path(snippets_folder: Path, name: str) -> Path:
    """Where a saved snippet's recording is kept: ``<snippets>/<name>.recording.json``.

    Beside the snippet file but not a ``*.py``, so the store never reads it as a snippet.
    """
    from .store import SnippetStore

    return SnippetStore(Path(snippets_folder)).fixture_path(name)


def save_fixture(
    snippets_folder: Path, name: str, recording: Recording, *, output: str | None = None, value: str | None = None
) -> Path:
    """Keep ``recording`` (and the run's output and value, when known) as snippet ``name``'s fixture."""
    from ..files import atomic_write_text

    data = recording.to_dict()
    expected = {key: item for key, item in (("output", output), ("value", value)) if item is not None}
    if expected:
        data["expected"] = expected
    target = fixture_path(snippets_folder, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, json.dumps(data, ensure_ascii=False, indent=1))
    return target


def load_fixture(snippets_folder: Path, name: str) -> dict[str, Any] | None:
    """Snippet ``name``'s fixture as JSON data, ``None`` when it has none; a damaged one is a SnippetError."""
    target = fixture_path(snippets_folder, name)
    if not target.is_file():
        return None
    try:
        data = json.loads(read_user_file(target, limit=512 * 1024 * 1024, what="recording"))
    except (OSError, ValueError) as exc:
        raise SnippetError(f"{target}: cannot read the skill's recording: {exc}") from None
    from ..executor.recording import Recording, RecordingError

    try:
        Recording.from_dict(data, where=str(target))
    except RecordingError as exc:
        raise SnippetError(str(exc)) from None
    return data if isinstance(data, dict) else None


def redact_arguments(value: Any, key: str = "", found: set[str] | None = None) -> Any:
    """``value`` with every secret replaced by :data:`REDACTED`: values under a secret-named key
    (``token``, ``api_key``, ``password``, ...) and strings shaped like keys, at any depth.

    Deterministic, so a replay redacts the calls it makes the same way and they still match.
    ``found`` collects the secrets replaced.
    """
    if isinstance(value, dict):
        return {k: redact_arguments(v, str(k), found) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_arguments(item, key, found) for item in value]
    if isinstance(value, str) and value and value != REDACTED and (is_secret_name(key) or looks_like_key(value)):
        if found is not None:
            found.add(value)
        return REDACTED
    return value


def _redact_result(text: Any, found: set[str]) -> Any:
    """A recorded result (JSON text) with its secrets redacted, and text results searched too."""
    if not isinstance(text, str):
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text
    cleaned = redact_arguments(data, "", found)
    if isinstance(cleaned, str):  # a text result: a key inside prose is found by its shape, word by word
        words = re.split(r"([\s\"',;:()\[\]{}<>=]+)", cleaned)
        cleaned = "".join(redact_arguments(w, "", found) if i % 2 == 0 else w for i, w in enumerate(words))
    return json.dumps(cleaned, ensure_ascii=False)


def redact_fixture(data: dict[str, Any]) -> dict[str, Any]:
    """A fixture fit to ship: secrets in each call's arguments, result and error redacted (and wherever
    the run's output printed them); the code is left out (the script has it)."""
    found: set[str] = set()
    calls = []
    for call in data.get("calls", []):
        cleaned = {**call, "arguments": redact_arguments(call.get("arguments") or {}, "", found)}
        cleaned["result"] = _redact_result(call.get("result"), found)
        calls.append(cleaned)
    for call in calls:  # a secret seen anywhere is redacted everywhere (errors echo arguments)
        for field in ("result", "error"):
            if isinstance(call.get(field), str):
                for secret in found:
                    call[field] = call[field].replace(secret, REDACTED)
    shipped = {**{k: v for k, v in data.items() if k != "code"}, "calls": calls}
    expected = data.get("expected")
    if isinstance(expected, dict):
        expected = dict(expected)
        for field, text in expected.items():
            if isinstance(text, str):
                for secret in found:
                    text = text.replace(secret, REDACTED)
                expected[field] = text
        shipped["expected"] = expected
    return shipped


_TESTS_NOTE = """
## Tests

`tests/test_*.py` replays the script offline against `tests/recording.json`, the tool calls of
the run it was saved from (secrets redacted): `pytest tests/` needs no MCP server.
"""


def _fixture_test(snippet: Snippet) -> str:
    stem = script_name(snippet.name)
    return f'''"""The {snippet.name} skill's script, replayed offline against the run it was saved from.

Every tool call is answered from recording.json: no MCP server is started or
contacted.  A change to the script that makes other tool calls, or calls them
with other arguments, fails as a divergence.  Run with `pytest` in the skill's
folder (codemode-tui must be installed).
"""

from pathlib import Path

from codemode_tui.snippets.skill_runtime import expected_output, replay_skill_script

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parent / "scripts" / "{stem}.py"
RECORDING = HERE / "recording.json"


def test_{stem}_replays_its_recording() -> None:
    result = replay_skill_script(SCRIPT, RECORDING)
    assert not result.divergences, [d.describe() for d in result.divergences]
    assert result.success, result.error
    expected = expected_output(RECORDING)
    if expected is not None:
        assert result.stdout + result.stderr == expected
'''


def read_frontmatter(text: str) -> dict[str, str]:
    """The ``key: value`` lines of a SKILL.md frontmatter (top-level scalars only)."""
    if not text.startswith("---"):
        raise SnippetError("SKILL.md has no frontmatter (it must start with '---')")
    end = text.find("\n---", 3)
    if end < 0:
        raise SnippetError("SKILL.md frontmatter is not closed with '---'")
    meta: dict[str, str] = {}
    for line in text[3:end].splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip().strip("'\"")
    return meta


def _read_text(path: Path, what: str) -> str:
    try:
        return read_user_file(path, what=what).decode("utf-8")
    except UnicodeDecodeError:
        raise SnippetError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise SnippetError(f"cannot read {path}: {exc.strerror or exc}") from None


def import_skill(folder: Path) -> Snippet:
    """Read a skill folder's main script back as a snippet (not saved: the caller decides)."""
    return import_skills(folder)[0]


def import_skills(folder: Path) -> list[Snippet]:
    """Every script of a skill folder as a snippet, the main one first (none saved: the caller decides).

    The main script is ``scripts/<name>.py`` (or the only or first one) and takes
    the skill's name; each other script becomes ``<name>-<script>``.  A script
    exported by codemode-tui comes back as the snippet it was; any other is kept
    as it is, and its ``argparse`` options become the snippet's parameters (see
    :func:`argparse_parameters`), so it runs with values instead of exiting with
    a usage error.
    """
    folder = Path(folder)
    skill_md = folder / "SKILL.md"
    if not skill_md.is_file():
        raise SnippetError(f"{folder} is not a skill folder: it has no SKILL.md")
    meta = read_frontmatter(_read_text(skill_md, "SKILL.md"))
    name = check_name(meta.get("name") or folder.name)
    scripts = sorted((folder / "scripts").glob("*.py")) if (folder / "scripts").is_dir() else []
    if not scripts:
        raise SnippetError(f"{folder} has no Python script under scripts/ to open")
    preferred = folder / "scripts" / f"{script_name(name)}.py"
    main = preferred if preferred in scripts else scripts[0]
    ordered = [main, *(s for s in scripts if s != main)]
    description = meta.get("description", "")
    snippets = []
    for script in ordered:
        text = _read_text(script, "script")
        code, params = text, []
        if SCRIPT_MARKER in text:
            values = _literals(text)
            code = str(values.get("CODE", text))
            params = [SnippetParam.from_dict(p) for p in values.get("PARAMETERS", [])]
        else:
            params, prelude = argparse_parameters(text, script.name)
            code = prelude + text
        servers: list[str] = []
        servers_json = script.with_name("servers.json")
        if servers_json.exists():
            servers = list(parse_servers(_read_text(servers_json, "servers file"), file=servers_json))
        snippet_name = name if script == main else _sub_name(name, script.stem)
        snippets.append(
            Snippet(
                name=check_name(snippet_name),
                description=description if script == main else _sub_description(description, script.name),
                code=code,
                parameters=params,
                tools=meta.get("allowed-tools", "").split(),
                servers=servers,
            )
        )
    return snippets


def _sub_name(skill: str, stem: str) -> str:
    part = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", stem.lower())).strip("-") or "script"
    return f"{skill}-{part}"[:64].rstrip("-")


def _sub_description(description: str, file: str) -> str:
    text = f"{description} ({file})" if description else f"The {file} script of the skill"
    return text if len(text) <= 1024 else description


_ARGPARSE_TYPES: dict[str, ParamType] = {"int": "int", "float": "float", "str": "str"}


def argparse_parameters(source: str, script: str) -> tuple[list[SnippetParam], str]:
    """The parameters of a script's ``parser.add_argument(...)`` calls, and a prelude that passes them.

    A script run in the sandbox sees the kernel's ``sys.argv``, so its
    ``parse_args()`` would fail; the prelude sets ``sys.argv`` from the snippet's
    parameters (``--flag value`` for each given option, positionals in order,
    bare ``--flag`` for ``store_true``).  An option without a default that is not
    required gets an empty default and is left out when empty.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [], ""
    params: list[SnippetParam] = []
    argv: list[str] = []
    seen: set[str] = set()
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"
        ):
            continue
        names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if not names:
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        flag = next((n for n in names if n.startswith("--")), names[0])
        positional = not flag.startswith("-")
        dest = _constant(keywords.get("dest")) or flag.lstrip("-").replace("-", "_")
        if not isinstance(dest, str) or dest in ("help", "h"):
            continue
        var = dest if dest.isidentifier() and not keyword.iskeyword(dest) and not dest.startswith("_") else None
        if var is None:
            var = re.sub(r"\W", "_", dest).strip("_") + "_value"
        if var in seen:
            continue
        seen.add(var)
        action = _constant(keywords.get("action"))
        help_text = _constant(keywords.get("help"))
        description = str(help_text) if isinstance(help_text, str) else ""
        description = " ".join(description.replace(": ", " - ").split())[:200]
        kind = keywords.get("type")
        ptype: ParamType = _ARGPARSE_TYPES.get(kind.id, "str") if isinstance(kind, ast.Name) else "str"
        default = _constant(keywords.get("default"))
        required = positional or _constant(keywords.get("required")) is True
        if action in ("store_true", "store_false"):
            on = action == "store_true"
            params.append(SnippetParam(var, "bool", not on if default is None else bool(default), description))
            argv.append(f"if {var} is {on}:\n    _argv += [{flag!r}]\n")
            continue
        if required:
            params.append(SnippetParam(var, ptype, description=description))
        else:
            fallback = default if isinstance(default, (int, float, str)) and not isinstance(default, bool) else ""
            if ptype != "str" and fallback == "":
                ptype = "str"  # an empty default reads as "not given"; the script converts the text itself
            params.append(SnippetParam(var, ptype, fallback, description))
        if positional:
            argv.append(f"_argv += [str({var})]\n")
        else:
            argv.append(f"if {var} != '':\n    _argv += [{flag!r}, str({var})]\n")
    if not params:
        return [], ""
    prelude = (
        "# codemode-tui: this script's command-line options come from the skill's parameters\n"
        f"import sys as _sys\n_argv = [{script!r}]\n" + "".join(argv) + "_sys.argv = _argv\ndel _argv\n"
    )
    return params, prelude


def _constant(node: ast.expr | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _literals(source: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return values
