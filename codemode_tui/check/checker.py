"""Type-check code against the generated bindings before it runs.

Why ty: measured on these bindings (demo server, 2 cores), a cold check costs
ty 0.33 s, pyrefly 0.57 s, mypy 3.25 s (dmypy ~0.28 s warm) and basedpyright
5.95 s; a re-check of an edited document through a warm language server costs
ty ~7 ms (p50), pyrefly ~8 ms, basedpyright ~430 ms.  ty is fast enough to run
on every pause in typing and its messages name the expected and found types.

How: one ``ty server`` process per bindings folder is kept warm; the code is
an in-memory document that is replaced and re-checked on every call.  Runs
allow top-level ``await``, so ty's "await outside of an async function" is
dropped; names that earlier runs left in the kernel are declared as ``Any`` on
a first line that is removed from the positions again.  The bindings' own
checks (:mod:`.calls`) add what ty cannot see: missing required arguments and
the right name for a wrong one.
"""

from __future__ import annotations

import asyncio
import contextlib
import keyword
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from .bindings_index import BindingsIndex
from .calls import check_calls
from .diagnostic import Diagnostic
from .lsp import LspClient, LspError

#: ty's diagnostics that a run's rules make wrong: top-level await is allowed in a run.
_ALLOWED_IN_A_RUN = ("outside of an asynchronous function", "outside of an async function")


class CheckerUnavailable(RuntimeError):
    """The type checker cannot run here (not installed, or it failed to start)."""


def ty_command() -> list[str]:
    """The ``ty server`` command line, or ``CheckerUnavailable`` with how to install it."""
    try:
        from ty import find_ty_bin

        return [str(find_ty_bin()), "server"]
    except (ImportError, FileNotFoundError):
        found = shutil.which("ty")
        if found:
            return [found, "server"]
    raise CheckerUnavailable("the type checker 'ty' is not installed; pip install ty (or codemode-tui[check])")


class CodeChecker:
    """A warm ty language server checking code against one folder of generated bindings.

    ``bindings_root`` is the folder that holds the ``generated`` package (what
    the sandbox puts on its path).  Use as ``async with CodeChecker(root) as c:``
    or call :meth:`close`.  Checks are serialised: the document is shared.
    """

    def __init__(self, bindings_root: Path, *, python: str | None = None) -> None:
        self.bindings_root = Path(bindings_root)
        self.python = python or sys.prefix
        self._client: LspClient | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._document: Path | None = None
        self._version = 0
        self._lock = asyncio.Lock()
        self._index: BindingsIndex | None = None
        self._pushed: dict[int, asyncio.Future[list[dict[str, Any]]]] = {}

    async def __aenter__(self) -> CodeChecker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        if self._client is not None and self._client.running:
            return
        self._folder = tempfile.TemporaryDirectory(prefix="codemode-check-")
        root = Path(self._folder.name)
        (root / "ty.toml").write_text(
            "[environment]\n"
            f"extra-paths = [{_toml(str(self.bindings_root))}]\n"
            f'python-version = "{sys.version_info.major}.{sys.version_info.minor}"\n'
            f"python = {_toml(self.python)}\n",
            encoding="utf-8",
        )
        self._document = root / "code.py"
        self._document.write_text("", encoding="utf-8")
        client = LspClient(ty_command(), root)
        client.on_notification = self._notification
        try:
            await client.start()
        except LspError as exc:
            await client.close()
            raise CheckerUnavailable(f"the type checker did not start: {exc}") from exc
        self._client = client
        await client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": self._document.as_uri(), "languageId": "python", "version": 0, "text": ""}},
        )

    def bindings_changed(self) -> None:
        """Re-read the bindings' signatures on the next check (after rediscovery regenerated them)."""
        self._index = None

    async def check(self, code: str, *, defined: Iterable[str] = ()) -> list[Diagnostic]:
        """Diagnostics for ``code``, sorted by position.

        ``defined``: names that exist before the code runs (a kernel's earlier
        runs), so using them is not an "unresolved reference".
        """
        await self.start()
        assert self._client is not None and self._document is not None
        if self._index is None:
            self._index = BindingsIndex.read(self.bindings_root)
        names = sorted({n for n in defined if n.isidentifier() and not keyword.iskeyword(n)})
        prelude = ""
        if names:
            prelude = "from typing import Any as _cm_Any; " + "; ".join(f"{n}: _cm_Any = ..." for n in names) + "\n"
        async with self._lock:
            items = await self._diagnose(prelude + code)
        shift = -1 if prelude else 0
        found = [d.shifted(shift) for d in (Diagnostic.from_lsp(i, source="ty") for i in items) if d is not None]
        found = [d for d in found if d.line >= 1 and not _allowed(d)]
        ours = check_calls(code, self._index)
        taken = {(d.line, d.column) for d in ours if d.code == "unknown-argument"}
        found = [d for d in found if not (d.code == "unknown-argument" and (d.line, d.column) in taken)]
        precise = {_span(d) for d in found if d.code.startswith(("missing-typed-dict", "invalid-typed-dict"))}
        found = [d for d in found if not (d.code == "invalid-argument-type" and _span(d) in precise)]
        found = [_explain(d, self._index) for d in found]
        return sorted([*found, *ours], key=lambda d: (d.line, d.column, d.code))

    async def _diagnose(self, text: str) -> list[dict[str, Any]]:
        assert self._client is not None and self._document is not None
        self._version += 1
        uri = self._document.as_uri()
        pushed = asyncio.get_running_loop().create_future()
        self._pushed = {self._version: pushed}
        await self._client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": self._version}, "contentChanges": [{"text": text}]},
        )
        if self._client.capabilities.get("diagnosticProvider"):
            answer = await self._client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
            return list((answer or {}).get("items") or [])
        return await asyncio.wait_for(pushed, 30)

    def _notification(self, method: str, params: Any) -> None:
        if method != "textDocument/publishDiagnostics" or not isinstance(params, dict):
            return
        future = self._pushed.get(params.get("version", self._version))
        if future is not None and not future.done():
            future.set_result(list(params.get("diagnostics") or []))

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        if self._folder is not None:
            with contextlib.suppress(OSError):
                self._folder.cleanup()
            self._folder = None


def _span(d: Diagnostic) -> tuple[int, int, int, int]:
    return (d.line, d.column, d.end_line, d.end_column)


def _allowed(diagnostic: Diagnostic) -> bool:
    return diagnostic.code == "invalid-syntax" and any(text in diagnostic.message for text in _ALLOWED_IN_A_RUN)


def _explain(diagnostic: Diagnostic, index: BindingsIndex) -> Diagnostic:
    """Say what to do: the servers there are for an unknown module, a result's real shape for a wrong use."""
    message = diagnostic.message.split("\ninfo:", 1)[0].strip()
    if message != diagnostic.message:
        diagnostic = replace(diagnostic, message=message)
    if diagnostic.code in ("import-not-found", "unresolved-import") and "`generated." in message:
        servers = ", ".join(sorted(index.modules)) or "none (no server is connected)"
        return replace(diagnostic, message=f"{message}: the server modules are {servers}")
    for name, keys in index.typed_dicts.items():
        if f"`{name}`" in diagnostic.message:
            hint = ": read a key with result['key']" if "attribute" in diagnostic.message else ""
            shape = f"{name} is a dict with keys {', '.join(repr(k) for k in keys)}" if keys else f"{name} is a dict"
            return replace(diagnostic, message=f"{message} ({shape}{hint})")
    return diagnostic


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
