"""A distinct, stable colour per speaker label, readable on dark and light themes."""

from __future__ import annotations

import zlib
from functools import lru_cache

from rich.style import Style

# Mid-tone hues that keep contrast on both textual-dark and textual-light backgrounds.
PALETTE = ("#3f9fff", "#e8892b", "#3fb34f", "#c061cb", "#1fb5b5", "#c9a20a", "#e0525e", "#7c7cf0")


@lru_cache(maxsize=256)
def speaker_style(label: str) -> Style:
    """A: the first colour, B: the second, ...; other labels by a stable hash."""
    if len(label) == 1 and "A" <= label <= "Z":
        index = ord(label) - ord("A")
    else:
        index = zlib.crc32(label.encode())
    return Style(color=PALETTE[index % len(PALETTE)], bold=True)
