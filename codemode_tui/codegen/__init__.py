"""Typed Python bindings generated from MCP tool schemas.

:class:`PythonCodeGenerator` writes the ``generated`` package the sandbox
imports; the preview functions return the same source as strings for the
playground.  Server names, tool names and descriptions are untrusted input:
they reach the source only as sanitized identifiers, ``repr`` literals or
escaped docstrings, so no schema can break or hijack the package.
"""

from __future__ import annotations

from .generator import CodegenError, GenerationResult, PythonCodeGenerator
from .preview import binding_source, example_call, import_line, module_source, signature

__all__ = [
    "CodegenError",
    "GenerationResult",
    "PythonCodeGenerator",
    "binding_source",
    "example_call",
    "import_line",
    "module_source",
    "signature",
]
