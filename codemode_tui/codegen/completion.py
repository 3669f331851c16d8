"""Completion and signature help for code that uses the bindings.

What a person typing Code Mode code needs to complete is known without
running anything: the modules (one per server), the tools in each module and
each tool's parameters, with their types and descriptions, all come from the
registry's tool definitions, the same ones the bindings are generated from.
So this works on text alone, in well under a millisecond for thousands of
tools, and the editor can ask on every ``.``:

- ``from generated.servers.`` (or ``generated.mcp.``): the modules;
- ``from generated.servers.fs import `` (and after a comma): the module's tools;
- ``read_file(`` and after a comma inside the call: the parameters not given yet
  (``path=``), for a tool imported by name or reached as ``fs.read_file``;
- ``fs.`` where ``fs`` is an imported bindings module: its tools.

Anything else after a dot (``result.``, ``text.up``) is a value the sandbox
holds; the workspace asks the sandbox for those (see ``Workspace.complete``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..tool_types import ToolDefinition
from .binding import build_bindings
from .preview import call_signature

#: Packages code imports bindings from: ours, and the path agent-codemode's prompts use.
BINDING_PACKAGES = ("generated.servers", "generated.mcp")

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_PACKAGE = r"generated\.(?:servers|mcp)"
_FROM_MODULE = re.compile(rf"^\s*(?:from|import)\s+{_PACKAGE}\.({_IDENT})?$")
_FROM_IMPORT = re.compile(
    rf"^\s*from\s+{_PACKAGE}\.({_IDENT})\s+import\s+\(?\s*(?:{_IDENT}(?:\s+as\s+{_IDENT})?\s*,\s*)*({_IDENT})?$"
)
_DOTTED = re.compile(rf"({_IDENT}(?:\.{_IDENT})*)\.({_IDENT})?$")
_WORD = re.compile(rf"({_IDENT})$")
#: Proposals a list holds at most (each tool's signature is rendered: keep the popup instant).
MAX_ITEMS = 100


@dataclass(frozen=True)
class Completion:
    """One proposal: ``text`` replaces the ``prefix`` typed so far."""

    text: str
    label: str
    kind: str
    """``module``, ``tool``, ``parameter`` or ``attribute``."""
    detail: str = ""
    """A type or a signature."""
    description: str = ""


@dataclass(frozen=True)
class Completions:
    prefix: str = ""
    """The characters before the cursor that the chosen proposal replaces."""
    items: list[Completion] = field(default_factory=list)
    attribute_of: str | None = None
    """When set, the cursor is after ``<attribute_of>.``, a value the sandbox may hold:
    the bindings know nothing of it and the sandbox should be asked."""


@dataclass(frozen=True)
class SignatureHelp:
    """The tool being called at the cursor: its signature, its description, the parameter being typed."""

    tool: str
    signature: str
    description: str
    active: str | None = None


@dataclass
class _Catalog:
    modules: dict[str, list[ToolDefinition]]

    @classmethod
    def of(cls, tools: Iterable[ToolDefinition]) -> _Catalog:
        modules: dict[str, list[ToolDefinition]] = {}
        for tool in tools:
            modules.setdefault(tool.server_module, []).append(tool)
        return cls(modules)

    def tool(self, module: str, name: str) -> ToolDefinition | None:
        return next((t for t in self.modules.get(module, []) if t.python_name == name), None)


def _imports(code: str) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """``(names, modules)``: local name -> (module, tool), and local name -> module, from the import lines."""
    names: dict[str, tuple[str, str]] = {}
    modules: dict[str, str] = {}
    for match in re.finditer(
        rf"^\s*from\s+{_PACKAGE}\.({_IDENT})\s+import\s+\(?([^)\n]*(?:\n[^)\n]*)*?)\)?$", code, re.M
    ):
        module = match.group(1)
        for part in match.group(2).replace("\n", ",").split(","):
            bits = part.split()
            if len(bits) == 1:
                names[bits[0]] = (module, bits[0])
            elif len(bits) == 3 and bits[1] == "as":
                names[bits[2]] = (module, bits[0])
    for match in re.finditer(rf"^\s*from\s+{_PACKAGE}\s+import\s+([^\n]+)$", code, re.M):
        for part in match.group(1).strip("() ").split(","):
            bits = part.split()
            if len(bits) == 1:
                modules[bits[0]] = bits[0]
            elif len(bits) == 3 and bits[1] == "as":
                modules[bits[2]] = bits[0]
    for match in re.finditer(rf"^\s*import\s+{_PACKAGE}\.({_IDENT})\s+as\s+({_IDENT})\s*$", code, re.M):
        modules[match.group(2)] = match.group(1)
    return names, modules


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _tool_item(tool: ToolDefinition) -> Completion:
    return Completion(tool.python_name, tool.python_name, "tool", _short_signature(tool), _first_line(tool.description))


def _short_signature(tool: ToolDefinition) -> str:
    return call_signature(tool).removeprefix("async def ")


def _open_calls(code: str, offset: int) -> list[tuple[str, str]]:
    """``(callee, arguments typed so far)`` of each call still open at ``offset``, innermost first."""
    found: list[tuple[str, str]] = []
    depth = 0
    index = offset - 1
    quote: str | None = None
    while index >= 0:
        char = code[index]
        if char in "\"'":
            quote = None if quote == char else (char if quote is None else quote)
        elif quote is None and char in ")]}":
            depth += 1
        elif quote is None and char in "([{":
            if depth > 0:
                depth -= 1
            elif char == "(":
                match = re.search(rf"({_IDENT}(?:\.{_IDENT})*)\s*$", code[:index])
                if match:
                    found.append((match.group(1), code[index + 1 : offset]))
        index -= 1
    return found


def _resolve(callee: str, code: str, catalog: _Catalog) -> ToolDefinition | None:
    names, modules = _imports(code)
    if "." in callee:
        base, _, name = callee.rpartition(".")
        module = modules.get(base)
        if module is None:
            for package in BINDING_PACKAGES:
                if base.startswith(package + "."):
                    module = base[len(package) + 1 :]
        return catalog.tool(module, name) if module else None
    found = names.get(callee)
    return catalog.tool(*found) if found else None


def _given_keywords(arguments: str) -> set[str]:
    return set(re.findall(rf"(?:^|,)\s*({_IDENT})\s*=(?!=)", arguments))


def complete(code: str, line: int, column: int, tools: Iterable[ToolDefinition]) -> Completions:
    """Proposals at ``line``/``column`` (1-based line, 0-based column, as editors count)."""
    lines = code.split("\n")
    if not 1 <= line <= len(lines):
        return Completions()
    column = max(0, min(column, len(lines[line - 1])))
    before = lines[line - 1][:column]
    catalog = _Catalog.of(tools)
    match = _FROM_MODULE.match(before)
    if match:
        prefix = match.group(1) or ""
        items = [
            Completion(module, module, "module", f"{len(entries)} tools", entries[0].server)
            for module, entries in sorted(catalog.modules.items())
            if module.startswith(prefix)
        ]
        return Completions(prefix, items)
    match = _FROM_IMPORT.match(before)
    if match:
        prefix = match.group(2) or ""
        already = set(re.findall(_IDENT, before.split(" import ", 1)[1])) - {prefix, "as"}
        found = [
            tool
            for tool in sorted(catalog.modules.get(match.group(1), []), key=lambda t: t.python_name)
            if tool.python_name.startswith(prefix) and tool.python_name not in already
        ]
        return Completions(prefix, [_tool_item(tool) for tool in found[:MAX_ITEMS]])
    offset = sum(len(text) + 1 for text in lines[: line - 1]) + column
    dotted = _DOTTED.search(before)
    if dotted:
        base, prefix = dotted.group(1), dotted.group(2) or ""
        _, modules = _imports(code)
        module = modules.get(base)
        for package in BINDING_PACKAGES:
            if base == package:
                items = [
                    Completion(m, m, "module", f"{len(e)} tools", e[0].server)
                    for m, e in sorted(catalog.modules.items())
                    if m.startswith(prefix)
                ]
                return Completions(prefix, items)
            if base.startswith(package + "."):
                module = base[len(package) + 1 :]
        if module is not None:
            found = [
                t
                for t in sorted(catalog.modules.get(module, []), key=lambda t: t.python_name)
                if t.python_name.startswith(prefix)
            ]
            return Completions(prefix, [_tool_item(tool) for tool in found[:MAX_ITEMS]])
        return Completions(prefix, [], attribute_of=base)
    calls = _open_calls(code, offset)
    if calls:
        call = calls[0]
        tool = _resolve(call[0], code, catalog)
        if tool is not None:
            word = _WORD.search(before)
            prefix = word.group(1) if word else ""
            typed = call[1][: len(call[1]) - len(prefix)]
            if re.search(r"=\s*[^,]*$", typed) and not typed.rstrip().endswith(","):
                return Completions(prefix, [])  # typing a value, not a keyword
            given = _given_keywords(call[1])
            return Completions(prefix, _parameter_items(tool, given, prefix))
    return Completions()


def _parameter_items(tool: ToolDefinition, given: set[str], prefix: str) -> list[Completion]:
    binding = build_bindings([tool])[0][0]
    items = []
    for param in sorted(binding.params, key=lambda p: not p.required):
        keyword = param.kwarg
        if keyword in given or not keyword.startswith(prefix):
            continue
        detail = param.type.text + ("" if param.required else " (optional)")
        items.append(
            Completion(f"{keyword}=", f"{keyword}=", "parameter", detail, _first_line(param.description or ""))
        )
    return items


def signature_help(code: str, line: int, column: int, tools: Iterable[ToolDefinition]) -> SignatureHelp | None:
    """The tool whose call the cursor is in (its signature and description), or ``None``."""
    lines = code.split("\n")
    if not 1 <= line <= len(lines):
        return None
    column = max(0, min(column, len(lines[line - 1])))
    offset = sum(len(text) + 1 for text in lines[: line - 1]) + column
    catalog = _Catalog.of(tools)
    for call in _open_calls(code, offset):
        tool = _resolve(call[0], code, catalog)
        if tool is not None:
            break
    else:
        return None
    last = re.findall(rf"({_IDENT})\s*=(?!=)[^,]*$", call[1])
    return SignatureHelp(
        tool.qualified_name, _short_signature(tool), tool.description.strip(), last[0] if last else None
    )
