"""Word error rate, for judging the offline engine in tests and benchmarks."""

from __future__ import annotations

from tui.core.stream.protocol import normalize_text

# Spelling variants that are not recognition errors (as common WER normalizers treat them).
SPELLINGS = {"mr": "mister", "mrs": "missus", "dr": "doctor"}


def wer_words(text: str) -> list[str]:
    words = normalize_text(text).replace("-", " ").split()
    return [SPELLINGS.get(w, w) for w in words]


def wer(ref: str, hyp: str) -> float:
    """(substitutions + deletions + insertions) / reference words, after normalizing both."""
    r, h = wer_words(ref), wer_words(hyp)
    row = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, row[0] = row[0], i
        for j, hw in enumerate(h, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
    return row[-1] / max(1, len(r))
