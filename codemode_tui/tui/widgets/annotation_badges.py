"""Badges for a tool's MCP annotations (read-only, destructive, idempotent, open world)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.content import Content
from textual.widgets import Static

# (hint, value) -> (label, style).  Only hints the server declared are shown.
_BADGES: dict[tuple[str, bool], tuple[str, str]] = {
    ("readOnlyHint", True): ("read-only", "$text-success on $success-muted"),
    ("readOnlyHint", False): ("writes", "$text-warning on $warning-muted"),
    ("destructiveHint", True): ("destructive", "$text-error on $error-muted"),
    ("destructiveHint", False): ("non-destructive", "$text-success on $success-muted"),
    ("idempotentHint", True): ("idempotent", "$text-primary on $primary-muted"),
    ("idempotentHint", False): ("not idempotent", "$text-muted on $panel"),
    ("openWorldHint", True): ("open world", "$text-accent on $accent-muted"),
    ("openWorldHint", False): ("closed world", "$text-muted on $panel"),
}


def badges(annotations: Mapping[str, Any]) -> Content:
    parts: list[Content] = []
    for (hint, value), (label, style) in _BADGES.items():
        if annotations.get(hint) is value:
            if parts:
                parts.append(Content(" "))
            parts.append(Content.styled(f" {label} ", style))
    if not parts:
        return Content.styled("no annotations declared", "$text-muted")
    return Content.assemble(*parts)


class AnnotationBadges(Static):
    """One line of coloured badges."""

    def show(self, annotations: Mapping[str, Any]) -> None:
        self.update(badges(annotations))
