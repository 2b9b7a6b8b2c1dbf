"""Turn messages of one v3 session in, live partials and finished turns out.

Finals are keyed on end_of_turn, never on turn_is_formatted (reference 3.3). With
format_turns on, the classic service sends an unformatted final and then a formatted one
with the same turn_order; newer servers format in-model and send one. So an unformatted
final is held until its formatted copy arrives, the next turn starts, a short grace time
passes, or the session ends — whichever is first — and each turn_order is final once.

Speakers (addendum 3, 6): PENDING/UNKNOWN mean "not known yet". A SpeakerRevision names
turns by turn_order; a turn already final is re-issued corrected, and a revision for a turn
not final yet is kept and applied when its final comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tui.core.stream.events import LiveWord
from tui.core.stream.protocol import Revision, Turn, known_speaker
from tui.core.stream.timeline import SessionClock
from tui.core.transcript.model import FinalTurn, TimedWord

FORMAT_GRACE_S = 2.0  # how long an unformatted final waits for its formatted copy


@dataclass(slots=True)
class _Held:
    turn: Turn
    since: float


class TurnAssembler:
    """One per v3 session. `on_final(turn_msg, FinalTurn)` gets each finished turn once."""

    def __init__(self, clock: SessionClock, format_turns: bool, next_index: Callable[[], int],
                 on_partial: Callable[[list[LiveWord]], None],
                 on_final: Callable[[FinalTurn], None]) -> None:
        self.clock = clock
        self.format_turns = format_turns
        self._next_index = next_index
        self._on_partial = on_partial
        self._on_final = on_final
        self._held: _Held | None = None
        self._done: set[int] = set()
        self._finals: dict[int, FinalTurn] = {}  # turn_order -> its final, for revisions
        self._pending: dict[int, Revision] = {}  # revisions of turns not final yet
        self.open_turn = False  # words heard that are not final yet
        self.last_final_end_ms: int | None = None  # timeline ms covered by finals so far
        self.cutoff_ms: int | None = None  # retired at rollover: a newer session owns audio from here

    def retire(self, cutoff_ms: float) -> None:
        """A new session takes over the audio from cutoff_ms: later turns here are its too."""
        self.cutoff_ms = int(cutoff_ms)

    def feed(self, msg: Turn) -> None:
        if msg.turn_order in self._done:
            return  # a late duplicate of a turn already final
        if self._held and self._held.turn.turn_order != msg.turn_order:
            self._release()
        if not msg.end_of_turn:
            self.open_turn = bool(msg.words)
            if self.cutoff_ms is not None:
                return  # the new session shows the live words now
            self._on_partial([LiveWord(w.text, w.confidence, w.word_is_final) for w in msg.words])
            return
        if self.format_turns and not msg.turn_is_formatted:
            self._held = _Held(msg, time.monotonic())
            if self.cutoff_ms is not None:
                return
            # Show the finished words at once; the formatted copy replaces them.
            self._on_partial([LiveWord(w.text, w.confidence, True) for w in msg.words])
            return
        self._finish(msg)

    def revise(self, revisions: list[Revision]) -> list[FinalTurn]:
        """Apply a SpeakerRevision in order (last item per turn wins); the final turns it changed."""
        changed: dict[int, FinalTurn] = {}
        for item in revisions:
            final = self._finals.get(item.turn_order)
            if final is None:
                if item.turn_order not in self._done:
                    self._pending[item.turn_order] = item
                continue
            final = self._finals[item.turn_order] = self._revised(final, item)
            changed[final.index] = final
        return list(changed.values())

    @staticmethod
    def _revised(final: FinalTurn, item: Revision) -> FinalTurn:
        speakers = [known_speaker(w.speaker) for w in item.words] if item.words else None
        return final.with_speakers(known_speaker(item.speaker_label), speakers)

    def tick(self) -> None:
        """Release an unformatted final whose formatted copy is overdue."""
        if self._held and time.monotonic() - self._held.since > FORMAT_GRACE_S:
            self._release()

    def flush(self) -> None:
        """The session is over: whatever is held is final."""
        if self._held:
            self._release()

    def _release(self) -> None:
        held, self._held = self._held, None
        if held:
            self._finish(held.turn)

    def _finish(self, msg: Turn) -> None:
        if self._held and self._held.turn.turn_order == msg.turn_order:
            self._held = None
        self._done.add(msg.turn_order)
        self.open_turn = False
        words = [TimedWord(w.text, self.clock.to_timeline(w.start), self.clock.to_timeline(w.end),
                           w.confidence, known_speaker(w.speaker)) for w in msg.words]
        if self.cutoff_ms is not None and (not words or words[0].start_ms >= self.cutoff_ms):
            return  # audio the newer session was given again: it reports this turn
        self._on_partial([])
        if words:
            self.last_final_end_ms = max(self.last_final_end_ms or 0, words[-1].end_ms)
        text = msg.transcript.strip() or " ".join(w.text for w in msg.words).strip()
        if not text:
            return  # empty finals happen (e.g. before Termination); nothing to show
        start = words[0].start_ms if words else self.clock.to_timeline(self.clock.sent_ms)
        end = words[-1].end_ms if words else start
        final = FinalTurn(self._next_index(), start, end, text, words, time.time(),
                          known_speaker(msg.speaker_label), msg.language_code, msg.language_confidence)
        if (early := self._pending.pop(msg.turn_order, None)) is not None:
            final = self._revised(final, early)  # the revision came before its final
        self._finals[msg.turn_order] = final
        self._on_final(final)
