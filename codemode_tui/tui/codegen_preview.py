"""What the preview and the editor need from the code generator, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import ToolDefinition


@dataclass
class BindingPreview:
    """A tool's generated binding and example call, or why they are not available."""

    available: bool
    binding: str = ""
    example: str = ""
    reason: str = ""


def binding_preview(tool: ToolDefinition) -> BindingPreview:
    try:
        from ..codegen import binding_source, example_call, import_line
    except ImportError:
        return BindingPreview(False, reason="Binding preview needs the code generator (codemode_tui.codegen).")
    try:
        return BindingPreview(
            True,
            binding=binding_source(tool),
            example=f"{import_line(tool)}\n\n{example_call(tool)}",
        )
    except Exception as exc:  # untrusted schemas: show why, never crash the pane
        return BindingPreview(False, reason=f"Could not generate the binding: {exc}")
