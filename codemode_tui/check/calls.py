"""The bindings' own checks: what a general type checker cannot see in a tool call.

A binding's keywords all have a default (so a dict and keywords can be mixed),
so no checker reports a missing required argument; and its message for an
unknown keyword does not say what the right one is.  This pass finds calls of
imported bindings in the code and reports both with the tool's real signature.
Calls that pass the arguments as a dict (``tool({...})``) or with ``**`` are
left to the type checker, which checks the dict against the tool's TypedDict.
"""

from __future__ import annotations

import ast
import difflib

from .bindings_index import BINDING_PACKAGES, Binding, BindingsIndex
from .diagnostic import Diagnostic


def check_calls(code: str, index: BindingsIndex) -> list[Diagnostic]:
    """Diagnostics for calls of bindings in ``code`` (nothing when it does not parse: the checker reports that)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    functions, modules = _imported(tree, index)
    found: list[Diagnostic] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        binding = _resolve(node.func, functions, modules, index)
        if binding is not None:
            found.extend(_check_call(node, binding))
    return found


def _module_of(dotted: str | None) -> str | None:
    """``generated.servers.demo`` -> ``demo``."""
    for package in BINDING_PACKAGES:
        if dotted and dotted.startswith(package + "."):
            rest = dotted[len(package) + 1 :]
            return rest if rest and "." not in rest else None
    return None


def _imported(tree: ast.Module, index: BindingsIndex) -> tuple[dict[str, Binding], dict[str, str]]:
    """Local names bound to bindings, and local names bound to server modules."""
    functions: dict[str, Binding] = {}
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            module = _module_of(node.module)
            if module is not None:
                for alias in node.names:
                    binding = index.binding(module, alias.name)
                    if binding is not None:
                        functions[alias.asname or alias.name] = binding
            elif node.module in BINDING_PACKAGES:
                for alias in node.names:
                    if alias.name in index.modules:
                        modules[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module = _module_of(alias.name)
                if module is not None and alias.asname:
                    modules[alias.asname] = module
    return functions, modules


def _resolve(
    func: ast.expr, functions: dict[str, Binding], modules: dict[str, str], index: BindingsIndex
) -> Binding | None:
    if isinstance(func, ast.Name):
        return functions.get(func.id)
    if isinstance(func, ast.Attribute):
        owner = func.value
        if isinstance(owner, ast.Name) and owner.id in modules:
            return index.binding(modules[owner.id], func.attr)
        dotted = dotted_name(owner)
        module = _module_of(dotted)
        if module is not None:
            return index.binding(module, func.attr)
    return None


def dotted_name(node: ast.AST) -> str | None:
    """``a.b.c`` for an attribute chain on a name, else ``None``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _check_call(call: ast.Call, binding: Binding) -> list[Diagnostic]:
    if call.args or any(k.arg is None for k in call.keywords):
        return []  # a dict of arguments or **kwargs: the type checker checks it against the TypedDict
    found: list[Diagnostic] = []
    given = {k.arg for k in call.keywords}
    keywords = [p.keyword for p in binding.params]
    for keyword in call.keywords:
        if keyword.arg in keywords or keyword.arg is None:
            continue
        close = difflib.get_close_matches(keyword.arg, keywords, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        found.append(
            _at(
                keyword,
                "unknown-argument",
                f"`{binding.name}` has no parameter `{keyword.arg}`; {hint}{_params_hint(binding)}",
            )
        )
    missing = [p for p in binding.required if p.keyword not in given]
    if missing:
        names = ", ".join(f"`{p.keyword}` ({p.annotation})" for p in missing)
        plural = "s" if len(missing) > 1 else ""
        found.append(
            _at(
                call.func,
                "missing-argument",
                f"`{binding.name}` is missing required argument{plural} {names}: {binding.signature()}",
            )
        )
    return found


def _params_hint(binding: Binding) -> str:
    if not binding.params:
        return "it takes no arguments"
    return "its parameters: " + ", ".join(p.keyword + ("" if not p.required else " (required)") for p in binding.params)


def _at(node: ast.AST, code: str, message: str) -> Diagnostic:
    line = getattr(node, "lineno", 1)
    column = getattr(node, "col_offset", 0) + 1
    end_line = getattr(node, "end_lineno", None) or line
    end_column = (getattr(node, "end_col_offset", None) or column - 1) + 1
    return Diagnostic(line, column, end_line, end_column, "error", message, code, "codemode")
