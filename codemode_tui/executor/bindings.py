"""The executor's copy of the ``generated`` bindings package, kept in step with the registry.

Bindings are generated with :class:`codemode_tui.codegen.PythonCodeGenerator`
into a folder the executor owns; a fingerprint of the registry's tools decides
whether a run needs fresh bindings (the registry's listener only says that
*something* changed, e.g. a server's status).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..tool_types import ToolDefinition
from .sandbox import BindingsPayload

SKIP_PARTS = {"__pycache__"}


def fingerprint(tools: list[ToolDefinition]) -> str:
    data = json.dumps([tool.to_dict() for tool in tools], sort_keys=True, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


class Bindings:
    """Generates the package under ``output_path`` and reads it back for remote sandboxes."""

    def __init__(self, output_path: Path) -> None:
        self.output_path = Path(output_path)
        self.package = self.output_path / "generated"
        self._fingerprint: str | None = None

    def refresh(self, tools: list[ToolDefinition]) -> bool:
        """Regenerate when ``tools`` differ from the last generation; ``True`` when files changed."""
        current = fingerprint(tools)
        if current == self._fingerprint and self.package.is_dir():
            return False
        from ..codegen import PythonCodeGenerator

        PythonCodeGenerator(self.output_path).generate_from_tools(tools)
        self._fingerprint = current
        return True

    def payload(self) -> BindingsPayload:
        files: dict[str, str] = {}
        for path in sorted(self.package.rglob("*")):
            relative = path.relative_to(self.package)
            if path.is_file() and not SKIP_PARTS.intersection(relative.parts) and path.suffix != ".pyc":
                files[relative.as_posix()] = path.read_text(encoding="utf-8")
        return BindingsPayload(path=self.output_path, files=files)
