"""The command palette (ctrl+p): every action the pane in view offers now,
read from its own key bindings (so the palette and the keys cannot differ),
and the app's own: Sync, Transfer all new, Refresh, Help, and going to each
pane. ``MislinkApp.palette_commands`` lists them; this provider only offers
them to Textual's palette."""
from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Provider


class PaneCommands(Provider):
    async def startup(self) -> None:
        # Worked out as the palette opens, for the pane and the record then in view.
        self.commands = self.app.palette_commands()

    async def discover(self) -> Hits:
        for title, help_text, command in self.commands:
            yield DiscoveryHit(title, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, command in self.commands:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, help=help_text)
