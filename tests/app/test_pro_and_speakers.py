"""The Pro family, speakers and revisions through the real client and the real local server."""

from __future__ import annotations

import json

from tui.core.stream import events as ev
from tui.core.transcript.exports import render
from tui.core.transcript.journal import read_journal
from streaming import TURNS, local_server, run_session, script_file, scripted_audio, settings_for

SPEAKERS = ["A", "B", "A", "B"]


def speaker_script(tmp_path, revise_last_to: str | None = "A", draft: tuple[int, int, str] | None = None):
    """TURNS said by A, B, A, B; the end-of-session pass moves the last turn to `revise_last_to`."""
    _, script = script_file(tmp_path)
    for turn, label in zip(script["turns"], SPEAKERS):
        turn["speaker"] = label
    if revise_last_to:
        script["turns"][-1]["revised_speaker"] = revise_last_to
    if draft:
        t, w, text = draft
        script["turns"][t]["words"][w].append({"draft": text})
    (tmp_path / "script.json").write_text(json.dumps(script))
    return script


async def test_pro_family_one_formatted_final_per_turn_and_whole_turn_partials(tmp_path):
    script = speaker_script(tmp_path, None, draft=(1, 2, "torque"))
    async with local_server(script) as server:
        settings = settings_for(tmp_path, server.url, service__speech_model="universal-3-6-pro")
        code, events, _ = await run_session(tmp_path, settings, scripted_audio(tmp_path, script))
    assert code == 0
    assert events.texts == TURNS  # formatted, each once, in order
    partials = [e.words for e in events.of(ev.PartialTurn) if e.words]
    assert partials and all(not w.final for words in partials for w in words)  # all provisional
    assert partials[0][0].text == "Good"  # Pro partials are formatted
    texts = [" ".join(w.text for w in words) for words in partials]
    drafted = [i for i, t in enumerate(texts) if t.startswith("Today we torque")]
    revised = [i for i, t in enumerate(texts) if t.startswith("Today we talk")]
    assert drafted and revised and drafted[-1] < revised[0], texts  # an earlier word revised by a partial
    assert len(events.of(ev.SpeechDetected)) == len(TURNS)  # SpeechStarted before each turn
    assert not [n for n in events.of(ev.Notice) if n.level != "information"]


async def test_universal_streaming_sends_no_speech_started(tmp_path):
    script = speaker_script(tmp_path, None, draft=(1, 2, "torque"))
    async with local_server(script) as server:
        code, events, _ = await run_session(tmp_path, settings_for(tmp_path, server.url),
                                            scripted_audio(tmp_path, script))
    assert code == 0 and events.texts == TURNS and not events.of(ev.SpeechDetected)
    assert all(w.text != "torque" for e in events.of(ev.PartialTurn) for w in e.words)  # drafts are Pro-only


async def test_speakers_and_a_revision_after_terminate(tmp_path):
    script = speaker_script(tmp_path, "A")
    async with local_server(script) as server:
        settings = settings_for(tmp_path, server.url, service__speaker_labels=True)
        code, events, session = await run_session(tmp_path, settings, scripted_audio(tmp_path, script))
    assert code == 0
    assert [e.turn.speaker for e in events.of(ev.TurnFinal)] == SPEAKERS
    revised = events.of(ev.TurnRevised)
    assert [(r.turn.index, r.turn.speaker) for r in revised] == [(3, "A")]
    assert [t.speaker for t in session.transcript.turns] == ["A", "B", "A", "A"]
    journal = read_journal(session.journal_path)
    assert [t.speaker for t in journal.turns] == ["A", "B", "A", "A"]  # the journal replays the revision
    vtt = render(journal, "vtt")
    assert "<v A>Thank you." in vtt


async def test_without_speaker_labels_no_labels_are_sent(tmp_path):
    script = speaker_script(tmp_path, "A")
    async with local_server(script) as server:
        code, events, _ = await run_session(tmp_path, settings_for(tmp_path, server.url),
                                            scripted_audio(tmp_path, script))
    assert code == 0 and all(e.turn.speaker is None for e in events.of(ev.TurnFinal))
    assert not events.of(ev.TurnRevised)


async def test_heartbeat_reports_the_real_time_factor(tmp_path):
    _, script = script_file(tmp_path)
    async with local_server(script, heartbeat_s=0.2) as server:
        settings = settings_for(tmp_path, server.url, service__session_heartbeat=True)
        code, events, session = await run_session(tmp_path, settings, scripted_audio(tmp_path, script), speed=1.0)
    assert code == 0
    factors = [e.realtime_factor for e in events.of(ev.ServiceLoad)]
    assert factors and 0.5 < factors[-1] < 1.5, factors  # paced at real time
    assert session.status().realtime_factor == factors[-1]


async def test_offline_engine_follows_the_model_and_never_invents_speakers(tmp_path):
    """The real offline model behind `captioner serve`, asked for a Pro model and speaker labels."""
    from paths import DATA
    from tui.server.server import LocalServer, ServerConfig

    async with LocalServer(ServerConfig(engine="moonshine")) as server:
        settings = settings_for(tmp_path, server.url, service__speech_model="universal-3-5-pro",
                                service__speaker_labels=True)
        code, events, session = await run_session(tmp_path, settings, DATA / "jfk.wav", speed=2.0)
    assert code == 0
    finals = [e.turn for e in events.of(ev.TurnFinal)]
    assert finals and "country" in " ".join(t.text for t in finals).lower()
    assert all(t.speaker is None and all(w.speaker is None for w in t.words) for t in finals)
    assert events.of(ev.SpeechDetected)  # Pro: SpeechStarted before the turns
    partial_words = [w for e in events.of(ev.PartialTurn) for w in e.words]
    assert partial_words and not any(w.final for w in partial_words)  # whole-turn provisional partials
    assert not events.of(ev.TurnRevised)


async def test_languages_per_turn_with_language_detection(tmp_path):
    _, script = script_file(tmp_path)
    for turn, code in zip(script["turns"], ("en", "es", "es", "en")):
        turn["language"] = code
    async with local_server(script) as server:
        settings = settings_for(tmp_path, server.url, service__speech_model="universal-streaming-multilingual",
                                service__language_detection=True)
        code, events, session = await run_session(tmp_path, settings, scripted_audio(tmp_path, script))
    assert code == 0
    assert [(t.language, t.language_confidence) for t in session.transcript.turns] == \
        [("en", 1.0), ("es", 1.0), ("es", 1.0), ("en", 1.0)]
    doc = json.loads(render(session.transcript, "json"))
    assert [t["language"] for t in doc["turns"]] == ["en", "es", "es", "en"]
    assert doc["turns"][1]["language_confidence"] == 1.0
