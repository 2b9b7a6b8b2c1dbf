"""Command palette entries for the captioning screen (ctrl+p)."""

from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Provider


class CaptionCommands(Provider):
    """The main screen's actions, by name."""

    def _commands(self):
        main = getattr(self.app, "main", None)
        return main.commands() if main is not None else []

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
