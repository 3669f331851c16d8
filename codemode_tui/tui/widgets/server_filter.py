"""The server filter of the tool list: all servers or one."""

from __future__ import annotations

from textual.widgets import Select


class ServerFilter(Select[str]):
    """A select of server names; blank means every server."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__([], prompt="All servers", allow_blank=True, id=id, compact=True)
        self._names: list[str] = []

    def set_servers(self, names: list[str]) -> None:
        """Offer these servers, keeping the current choice when it still exists."""
        if names == self._names:
            return
        current = self.value
        self._names = list(names)
        with self.prevent(Select.Changed):
            self.set_options((name, name) for name in names)
            if isinstance(current, str) and current in names:
                self.value = current

    @property
    def server(self) -> str | None:
        value = self.value
        return value if isinstance(value, str) else None
