"""The preview tabs: a tool's JSON Schema, its generated binding, and its details."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static, TabbedContent, TabPane

from ..codegen_preview import binding_preview
from ..formatting import pretty_json, safe
from .annotation_badges import AnnotationBadges
from .code_view import CodeView

if TYPE_CHECKING:
    from ...registry import ToolDefinition


class PreviewPane(Vertical):
    """Schema, binding and details of the highlighted tool; ``c`` copies the open tab."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "screen.copy_preview", "Copy", id="preview-copy", tooltip="Copy the open tab to the clipboard"),
    ]

    ALLOW_MAXIMIZE = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Preview"
        self.tool: ToolDefinition | None = None

    def compose(self) -> ComposeResult:
        with TabbedContent(id="preview-tabs", initial="tab-details"):
            with TabPane("Details", id="tab-details"), VerticalScroll(classes="preview-scroll"):
                yield Static(id="details-title", classes="details-title")
                yield AnnotationBadges(id="details-badges")
                yield Static(id="details-description", classes="details-description")
                yield Static("Signature", classes="details-heading")
                yield CodeView("", id="details-signature")
                yield Static("Example call", classes="details-heading")
                yield CodeView("", id="details-example")
            with TabPane("Schema", id="tab-schema"), VerticalScroll(classes="preview-scroll"):
                yield CodeView("Select a tool to see its input and output schema.", id="schema")
            with TabPane("Binding", id="tab-binding"), VerticalScroll(classes="preview-scroll"):
                yield CodeView("Select a tool to see its generated Python binding.", id="binding")

    def on_mount(self) -> None:
        self.show_tool(None)

    def show_tool(self, tool: ToolDefinition | None) -> None:
        self.tool = tool
        title = self.query_one("#details-title", Static)
        description = self.query_one("#details-description", Static)
        example = self.query_one("#details-example", CodeView)
        signature = self.query_one("#details-signature", CodeView)
        schema = self.query_one("#schema", CodeView)
        binding = self.query_one("#binding", CodeView)
        badges = self.query_one("#details-badges", AnnotationBadges)
        if tool is None:
            title.update(Content.styled("No tool selected", "$text-muted"))
            badges.update("")
            description.update(Content.styled("Search on the left and highlight a tool.", "$text-muted"))
            example.show_message("")
            signature.show_message("")
            schema.show_message("Select a tool to see its input and output schema.")
            binding.show_message("Select a tool to see its generated Python binding.")
            return
        heading = Content.assemble(
            Content.styled(safe(tool.title or tool.name), "bold $text-primary"),
            Content.styled(f"  {tool.qualified_name}", "$text-muted"),
        )
        title.update(heading)
        badges.show(tool.annotations)
        description.update(Content(safe(tool.description).strip() or "(no description)"))
        schemas = {"input": tool.input_schema}
        if tool.output_schema is not None:
            schemas["output"] = tool.output_schema
        schema.show(pretty_json(schemas), "json")
        preview = binding_preview(tool)
        if preview.available:
            binding.show(preview.binding, "python")
            example.show(preview.example, "python")
            signature.show(preview.signature, "python")
        else:
            binding.show_message(preview.reason)
            example.show_message(preview.reason)
            signature.show_message("")

    def copy_text(self) -> tuple[str, str] | None:
        """The text of the open tab and a name for it, or ``None`` when there is nothing to copy."""
        if self.tool is None:
            return None
        active = self.query_one(TabbedContent).active
        if active == "tab-schema":
            return self.query_one("#schema", CodeView).text, "schema"
        if active == "tab-binding":
            return self.query_one("#binding", CodeView).text, "binding"
        return self.query_one("#details-example", CodeView).text, "example call"
