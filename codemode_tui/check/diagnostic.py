"""One finding of the type check: where it is, how bad, and what to do about it.

Positions are 1-based lines and columns of the code as the person wrote it (the
language server's 0-based ones are converted once, here), so every front end
(the CLI, ``execute_code``'s answer, the editor's gutter) shows the same numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

_LSP_SEVERITY: dict[int, Severity] = {1: "error", 2: "warning", 3: "info"}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem found in code before it runs."""

    line: int
    column: int
    end_line: int
    end_column: int
    severity: Severity
    message: str
    code: str = ""
    """The rule, e.g. ``unknown-argument`` or ``missing-argument``."""
    source: str = "codemode"
    """Who found it: ``ty`` or ``codemode`` (the bindings' own checks)."""

    @classmethod
    def from_lsp(cls, item: dict[str, Any], *, source: str) -> Diagnostic | None:
        """Convert a language-server diagnostic; ``None`` for hints (unused names, ...), which are not problems."""
        severity = _LSP_SEVERITY.get(int(item.get("severity") or 1))
        if severity is None:
            return None
        span = item.get("range") or {}
        start, end = span.get("start") or {}, span.get("end") or {}
        code = item.get("code")
        return cls(
            line=int(start.get("line", 0)) + 1,
            column=int(start.get("character", 0)) + 1,
            end_line=int(end.get("line", start.get("line", 0))) + 1,
            end_column=int(end.get("character", start.get("character", 0))) + 1,
            severity=severity,
            message=str(item.get("message", "")).strip(),
            code=str(code) if code is not None else "",
            source=source,
        )

    def shifted(self, lines: int) -> Diagnostic:
        """The same finding ``lines`` further down (negative: up)."""
        return replace(self, line=self.line + lines, end_line=self.end_line + lines)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self, filename: str = "<code>") -> str:
        """``file:line:col: severity[code] message``, the shape compilers and editors parse."""
        rule = f"[{self.code}]" if self.code else ""
        return f"{filename}:{self.line}:{self.column}: {self.severity}{rule} {self.message}"


def uses_bindings(code: str) -> bool:
    """Whether code can reach the bindings at all: only such code is checked (a plain run pays nothing)."""
    return "generated" in code


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)
