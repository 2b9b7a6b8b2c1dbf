"""Pausing: what was said before the pause is captioned at once; nothing is sent while paused."""

import asyncio

from tui.core.stream import events as ev
from tui.captioning import CaptionSession, RunOptions
from streaming import Collector, local_server, script_file, scripted_audio, settings_for

TALK = ["Good afternoon.", "Let me explain how the pause key works in practice today.",
        "It keeps what was said.", "Thanks for listening."]


async def test_pause_mid_sentence_finishes_the_turn_and_resume_goes_on(tmp_path):
    _, script = script_file(tmp_path, TALK)
    events = Collector()
    paused_finals: list[str] = []
    state = {"session": None, "paused": False}

    def emit(event):
        events(event)
        session = state["session"]
        words = [w.text for w in event.words] if isinstance(event, ev.PartialTurn) else []
        if not state["paused"] and len(words) >= 4 and words[0] == "let":
            state["paused"] = True
            asyncio.get_running_loop().call_soon(session.pause)
            asyncio.get_running_loop().call_later(1.0, session.resume)
        if isinstance(event, ev.TurnFinal) and session.paused:
            paused_finals.append(event.turn.text)

    async with local_server(script) as server:
        session = CaptionSession(settings_for(tmp_path, server.url), emit,
                                 RunOptions(input=str(scripted_audio(tmp_path, script)), speed=4,
                                            journal_dir=tmp_path / "j"))
        state["session"] = session
        code = await asyncio.wait_for(session.run(), 60)
        sent_while_paused = server.sessions_started
    assert code == 0
    # The words heard before the pause became a final turn while still paused.
    assert len(paused_finals) == 1
    said = paused_finals[0].split()
    assert said[:4] == ["Let", "me", "explain", "how"] and len(said) < len(TALK[1].split())
    texts = events.texts
    assert texts[0] == TALK[0] and texts[1] == paused_finals[0]
    assert texts[-1] == TALK[-1]
    assert len(texts) == len(set(texts))
    # The pause is on the timeline, and the journal has it too.
    pause = [m for m in session.transcript.markers if m.kind == "pause"]
    assert len(pause) == 1 and pause[0].duration_ms > 2000  # ~1 s of wall time at 4x
    assert sent_while_paused == 1  # one session throughout: the short pause kept it open
