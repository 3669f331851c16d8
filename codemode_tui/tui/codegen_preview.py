"""What the preview and the editor need from the code generator, in one place.

Schemas come from servers and are untrusted: a tool whose binding cannot be
generated gets a reason to show instead of an exception in the UI.  The code
generator is imported on first use, not with the app, so the first frame does
not wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..registry import ToolDefinition


@dataclass
class BindingPreview:
    """A tool's generated binding and example call, or why they are not available."""

    available: bool
    binding: str = ""
    example: str = ""
    signature: str = ""
    reason: str = ""


def binding_preview(tool: ToolDefinition) -> BindingPreview:
    from ..codegen.preview import binding_source, example_call, import_line, signature

    try:
        return BindingPreview(
            True,
            binding=binding_source(tool),
            example=f"{import_line(tool)}\n\n{example_call(tool)}",
            signature=signature(tool),
        )
    except Exception as exc:  # untrusted schemas: show why, never crash the pane
        return BindingPreview(False, reason=f"Could not generate the binding: {exc}")
