"""Block letters for the caption view's large text: pyfiglet fonts, scaled to the width.

Each word is drawn once (cached) and lines are laid out word by word, so a caption wraps
at word boundaries like ordinary text. The size is the largest that still fits enough
characters on a line to read a phrase at a time.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pyfiglet

MIN_CHARS = 16  # a size is used only if a line holds at least this many characters


@dataclass(frozen=True, slots=True)
class Size:
    font: str
    scale: int  # each cell of the font drawn scale x scale


# Largest first. ansi_regular is solid block letters (5 rows); future is 3 rows of box lines.
SIZES = (Size("ansi_regular", 3), Size("ansi_regular", 2), Size("ansi_regular", 1), Size("future", 1))


@lru_cache(maxsize=8)
def _figlet(font: str) -> pyfiglet.Figlet:
    return pyfiglet.Figlet(font=font, width=100_000)


def plain_ascii(text: str) -> str:
    """What the fonts can draw: accents dropped, other characters as '?'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)


@lru_cache(maxsize=4096)
def glyphs(word: str, size: Size) -> tuple[str, ...]:
    """A word in block letters: rows of equal width, blank rows trimmed, scaled."""
    rows = _figlet(size.font).renderText(plain_ascii(word)).split("\n")
    rows = [r for r in rows if r.strip()] or [""]
    width = max(len(r) for r in rows)
    rows = ["".join(c * size.scale for c in r.ljust(width)) for r in rows]
    return tuple(row for row in rows for _ in range(size.scale))


def height(size: Size) -> int:
    return len(glyphs("Ag", size))


def gap(size: Size) -> int:
    return 2 * size.scale


def char_width(size: Size) -> float:
    sample = "the quick brown fox"
    return sum(len(glyphs(w, size)[0]) for w in sample.split()) / len(sample.replace(" ", ""))


def pick_size(width: int) -> Size | None:
    """The largest size with MIN_CHARS to a line at this width; None: too narrow, use text."""
    for size in SIZES:
        if width / char_width(size) >= MIN_CHARS:
            return size
    return None


def render(text: str, width: int, size: Size) -> list[str]:
    """The text wrapped at word boundaries into block-letter lines, each height(size) rows."""
    lines: list[list[tuple[str, ...]]] = [[]]
    used = 0
    for word in text.split():
        drawn = glyphs(word, size)
        w = len(drawn[0])
        if lines[-1] and used + gap(size) + w > width:
            lines.append([])
            used = 0
        used += (gap(size) if lines[-1] else 0) + w
        lines[-1].append(drawn)
    rows: list[str] = []
    spacer = " " * gap(size)
    for words in lines:
        if not words:
            continue
        for y in range(height(size)):
            rows.append(spacer.join(g[y] if y < len(g) else " " * len(g[0]) for g in words)[:width])
    return rows
