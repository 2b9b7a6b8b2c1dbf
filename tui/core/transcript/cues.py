"""Split finalized turns into subtitle cues from their word timings.

Rules (common broadcast/streaming practice): at most 2 lines of 42 characters, 1-7 s on
screen, break at sentence ends, long pauses or punctuation, never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.core.transcript.model import FinalTurn

MAX_LINE = 42
MIN_CUE_MS = 1000
MAX_CUE_MS = 7000
PAUSE_MS = 700  # silence between words this long always ends a cue
SHORT_GAP_MS = 250  # a smaller pause is still a decent place to break
SENTENCE_END = (".", "?", "!", "…", '."', '?"', '!"')
ABBREVIATIONS = frozenset("mr. mrs. ms. dr. prof. st. mt. jr. sr. vs. etc. e.g. i.e. no. approx.".split())
CLAUSE_END = (",", ";", ":", "—", "–")
# Lines and cues read better when they break before these words than after them.
CONJUNCTIONS = frozenset(
    "and but or nor so yet because although though while whereas which who whom whose that "
    "when where if unless until".split()
)
PREPOSITIONS = frozenset("of to in on at for with from by about into than as".split())


@dataclass(slots=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: list[str] = field(default_factory=list)
    speaker: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(slots=True)
class _Token:
    text: str
    start_ms: int
    end_ms: int
    speaker: str | None = None


def build_cues(turns: list[FinalTurn]) -> list[Cue]:
    """Cues for all turns, in time order, with no overlaps."""
    cues: list[Cue] = []
    for turn in sorted(turns, key=lambda t: (t.start_ms, t.index)):
        for chunk in _split(_tokens(turn)):
            lines = wrap([t.text for t in chunk]) or [" ".join(t.text for t in chunk)]
            cues.append(Cue(chunk[0].start_ms, chunk[-1].end_ms, lines, chunk[0].speaker))
    _fix_timing(cues)
    return cues


def wrap(texts: list[str], width: int = MAX_LINE) -> list[str] | None:
    """The words as 1 or 2 balanced lines, or None if they don't fit.

    A line may exceed the width only when it is a single word.
    """
    one = " ".join(texts)
    if len(one) <= width or len(texts) == 1:
        return [one]
    best: tuple[float, list[str]] | None = None
    for i in range(1, len(texts)):
        a, b = " ".join(texts[:i]), " ".join(texts[i:])
        if (len(a) > width and i > 1) or (len(b) > width and i < len(texts) - 1):
            continue
        # Balanced lines read best; a break after punctuation reads better still.
        score = max(len(a), len(b)) - _line_break_bonus(texts[i - 1], texts[i])
        if best is None or score < best[0]:
            best = (score, [a, b])
    return best[1] if best else None


def _line_break_bonus(before: str, after: str) -> int:
    if _ends_sentence(before) or before.endswith(CLAUSE_END):
        return 8
    return 4 if after.lower() in CONJUNCTIONS | PREPOSITIONS else 0


def _tokens(turn: FinalTurn) -> list[_Token]:
    """The turn's own text, word by word, timed from its words (or spread over its span)."""
    texts = turn.text.split()
    words = sorted((w for w in turn.words if w.text.strip()), key=lambda w: w.start_ms)
    if not texts:
        return []
    if not words:
        tokens = _spread(texts, turn.start_ms, max(turn.end_ms, turn.start_ms))
        for tok in tokens:
            tok.speaker = turn.speaker
        return tokens
    # Map text tokens onto words proportionally: exact when the counts agree, close otherwise
    # (the formatted text can merge or split words, e.g. "$5" vs "five dollars").
    n, m = len(words), len(texts)
    tokens = []
    for i, text in enumerate(texts):
        a = i * n // m
        b = max(a, ((i + 1) * n - 1) // m)
        tokens.append(_Token(text, words[a].start_ms, max(words[b].end_ms, words[a].start_ms),
                             words[a].speaker or turn.speaker))
    return tokens


def _spread(texts: list[str], start: int, end: int) -> list[_Token]:
    """Time tokens by their length across a span, for turns that came without word timings."""
    total = sum(len(t) + 1 for t in texts)
    tokens, pos = [], 0
    for text in texts:
        a = start + (end - start) * pos // total
        pos += len(text) + 1
        tokens.append(_Token(text, a, start + (end - start) * pos // total))
    return tokens


def _split(tokens: list[_Token]) -> list[list[_Token]]:
    chunks: list[list[_Token]] = []
    cur: list[_Token] = []
    for tok in tokens:
        if cur and _must_break(cur, tok):
            chunks.append(cur)
            cur = []
        while cur and not _fits(cur + [tok]):
            keep, cur = _best_break(cur)
            chunks.append(keep)
        cur.append(tok)
    if cur:
        chunks.append(cur)
    return chunks


def _fits(tokens: list[_Token]) -> bool:
    if len(tokens) == 1:
        return True
    return wrap([t.text for t in tokens]) is not None and tokens[-1].end_ms - tokens[0].start_ms <= MAX_CUE_MS


def _must_break(cur: list[_Token], nxt: _Token) -> bool:
    if nxt.start_ms - cur[-1].end_ms >= PAUSE_MS or nxt.speaker != cur[-1].speaker:
        return True
    # A finished sentence ends the cue, unless it is a lone short word ("Yes. I agree.").
    long_enough = len(cur) > 1 or cur[-1].end_ms - cur[0].start_ms >= MIN_CUE_MS
    return _ends_sentence(cur[-1].text) and long_enough


def _ends_sentence(text: str) -> bool:
    return text.endswith(SENTENCE_END) and text.lower() not in ABBREVIATIONS


def _best_break(cur: list[_Token]) -> tuple[list[_Token], list[_Token]]:
    """Split a full cue at its best late break point; keep it all if there is none."""
    total = sum(len(t.text) + 1 for t in cur)
    best_i, best_rank, kept = len(cur), 0, 0
    for i in range(1, len(cur)):
        kept += len(cur[i - 1].text) + 1
        if kept < 0.4 * total:
            continue  # too early: would leave a stub cue
        rank = _break_rank(cur[i - 1], cur[i])
        if rank and rank >= best_rank:
            best_i, best_rank = i, rank
    return cur[:best_i], cur[best_i:]


def _break_rank(before: _Token, after: _Token) -> int:
    if _ends_sentence(before.text):
        return 3
    if before.text.endswith(CLAUSE_END) or after.text.lower() in CONJUNCTIONS:
        return 2
    long_gap = after.start_ms - before.end_ms >= SHORT_GAP_MS
    return 1 if long_gap or after.text.lower() in PREPOSITIONS else 0


def _fix_timing(cues: list[Cue]) -> None:
    """Make cues monotonic and non-overlapping, 1 ms to 7 s long, at least 1 s where room allows."""
    prev_end = 0
    for cue in cues:
        cue.start_ms = max(cue.start_ms, prev_end, 0)
        cue.end_ms = min(max(cue.end_ms, cue.start_ms + 1), cue.start_ms + MAX_CUE_MS)
        prev_end = cue.end_ms
    for cue, nxt in zip(cues, cues[1:] + [None]):
        if cue.end_ms - cue.start_ms < MIN_CUE_MS:
            limit = nxt.start_ms if nxt else cue.start_ms + MIN_CUE_MS
            cue.end_ms = max(cue.end_ms, min(cue.start_ms + MIN_CUE_MS, limit))
