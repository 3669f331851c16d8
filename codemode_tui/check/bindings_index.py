"""What the checks need to know about the generated bindings, read from their source.

A binding takes its keywords with a ``MISSING`` default (so a dict and keywords
can be mixed), which hides a missing required argument from any type checker.
The generated source still says which keys are required (the tuple passed to
``merge_arguments``) and which Python keyword stands for which schema key, so
this module reads that back with :mod:`ast` instead of asking the registry: the
check then works on exactly the bindings the sandbox imports, wherever they
came from.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

#: Packages code imports bindings from: ours, and the path agent-codemode's prompts use.
BINDING_PACKAGES = ("generated.servers", "generated.mcp")


@dataclass(frozen=True, slots=True)
class Param:
    keyword: str
    """The Python keyword (``from_`` for the schema key ``from``)."""
    key: str
    """The key in the tool's input schema."""
    annotation: str
    required: bool


@dataclass(frozen=True, slots=True)
class Binding:
    module: str
    """The server's module under ``generated.servers``."""
    name: str
    params: tuple[Param, ...]
    returns: str

    def param(self, keyword: str) -> Param | None:
        return next((p for p in self.params if p.keyword == keyword), None)

    @property
    def required(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.required)

    def signature(self) -> str:
        parts = [f"{p.keyword}: {p.annotation}" + ("" if p.required else " = ...") for p in self.params]
        return f"{self.name}({', '.join(parts)}) -> {self.returns}"


@dataclass(slots=True)
class BindingsIndex:
    """Every binding and TypedDict of one generated package, by module."""

    modules: dict[str, dict[str, Binding]] = field(default_factory=dict)
    typed_dicts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """TypedDict name -> its keys (names are unique within a module; the last module wins across modules)."""

    @classmethod
    def read(cls, root: Path) -> BindingsIndex:
        """Read ``root/generated/servers/*/__init__.py``; a missing or unreadable module is skipped."""
        index = cls()
        servers = root / "generated" / "servers"
        if not servers.is_dir():
            return index
        for init in sorted(servers.glob("*/__init__.py")):
            try:
                tree = ast.parse(init.read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError):
                continue
            index.modules[init.parent.name] = _bindings(init.parent.name, tree)
            index.typed_dicts.update(_typed_dicts(tree))
        return index

    def binding(self, module: str, name: str) -> Binding | None:
        return self.modules.get(module, {}).get(name)


def _bindings(module: str, tree: ast.Module) -> dict[str, Binding]:
    found: dict[str, Binding] = {}
    for node in tree.body:
        if not isinstance(node, ast.AsyncFunctionDef):
            continue
        merge = _merge_call(node)
        if merge is None:
            continue
        keys, required = _merge_keys(merge)
        params = []
        for arg in node.args.kwonlyargs:
            key = keys.get(arg.arg, arg.arg)
            annotation = ast.unparse(arg.annotation) if arg.annotation is not None else "Any"
            params.append(Param(arg.arg, key, annotation, key in required))
        returns = ast.unparse(node.returns) if node.returns is not None else "Any"
        found[node.name] = Binding(module, node.name, tuple(params), returns)
    return found


def _merge_call(function: ast.AsyncFunctionDef) -> ast.Call | None:
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_cm_merge":
            return node
    return None


def _merge_keys(call: ast.Call) -> tuple[dict[str, str], set[str]]:
    """``merge_arguments(name, arguments, {key: keyword, ...}, (required keys...), ...)``."""
    keys: dict[str, str] = {}
    required: set[str] = set()
    if len(call.args) >= 3 and isinstance(call.args[2], ast.Dict):
        for key, value in zip(call.args[2].keys, call.args[2].values, strict=False):
            if isinstance(key, ast.Constant) and isinstance(value, ast.Name):
                keys[value.id] = str(key.value)
    if len(call.args) >= 4 and isinstance(call.args[3], ast.Tuple):
        required = {str(e.value) for e in call.args[3].elts if isinstance(e, ast.Constant)}
    return keys, required


def _typed_dicts(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id == "TypedDict" for b in node.bases):
            keys = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
            found[node.name] = tuple(keys)
    return found
