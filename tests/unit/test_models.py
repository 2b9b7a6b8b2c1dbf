"""Any model id, family-specific parameters, and warnings for settings a model ignores."""

from __future__ import annotations

import pytest

from tui.config import ConfigError, load_settings
from tui.service_params import connection_params, ignored_settings


def settings(tmp_path, text: str = "", **overrides):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(path, env={}, overrides=overrides)


def test_config_accepts_a_new_model_id(tmp_path):
    s = settings(tmp_path, '[service]\nspeech_model = "universal-3-6-pro"\n')
    assert s["service.speech_model"] == "universal-3-6-pro"
    s = settings(tmp_path, '[service]\nspeech_model = "universal-4-0-pro.preview"\n')
    assert connection_params(s)["speech_model"] == "universal-4-0-pro.preview"


def test_config_refuses_a_model_id_with_spaces_in_one_line(tmp_path):
    with pytest.raises(ConfigError) as err:
        settings(tmp_path, '[service]\nspeech_model = "no spaces allowed"\n')
    text = str(err.value)
    assert "\n" not in text
    assert text.endswith("service.speech_model must be a model id (letters, digits, '-' and '.') "
                         "(got 'no spaces allowed')")


def test_command_line_model_wins(tmp_path):
    s = settings(tmp_path, '[service]\nspeech_model = "universal-3-6-pro"\n',
                 **{"service.speech_model": "universal-streaming-multilingual"})
    assert s["service.speech_model"] == "universal-streaming-multilingual"
    with pytest.raises(ConfigError, match="command line: service.speech_model must be a model id"):
        settings(tmp_path, **{"service.speech_model": "bad/model"})


def test_universal_streaming_gets_only_its_settings(tmp_path):
    s = settings(tmp_path, '[service]\nmode = "max_accuracy"\nprompt = "a lecture"\n')
    params = connection_params(s)
    assert params["speech_model"] == "universal-streaming-english"
    assert params["format_turns"] is True and params["end_of_turn_confidence_threshold"] == 0.4
    assert "mode" not in params and "prompt" not in params
    assert ignored_settings(s) == [
        "service.mode is not sent: universal-streaming-english is Universal-Streaming, which ignores it",
        "service.prompt is not sent: universal-streaming-english is Universal-Streaming, which ignores it",
    ]


def test_pro_family_gets_only_its_settings(tmp_path):
    s = settings(tmp_path, '[service]\nspeech_model = "universal-3-6-pro"\nmode = "min_latency"\n'
                 'prompt = "a lecture on Rome"\nlanguage_codes = ["en", "it"]\nformat_turns = false\n')
    params = connection_params(s)
    assert params["mode"] == "min_latency" and params["prompt"] == "a lecture on Rome"
    assert params["language_codes"] == ["en", "it"]
    for universal in ("format_turns", "end_of_turn_confidence_threshold", "min_turn_silence", "max_turn_silence"):
        assert universal not in params  # the silences come from the mode preset
    assert ignored_settings(s) == [
        "service.format_turns is not sent: universal-3-6-pro is the Pro family, which ignores it"]


def test_pro_sends_silences_only_when_changed(tmp_path):
    s = settings(tmp_path, '[service]\nspeech_model = "universal-3-5-pro"\nmax_turn_silence = 2000\n')
    params = connection_params(s)
    assert params["max_turn_silence"] == 2000 and "min_turn_silence" not in params


def test_speakers_and_languages(tmp_path):
    s = settings(tmp_path, '[service]\nlanguage_detection = true\nsession_heartbeat = true\n',
                 **{"service.speaker_labels": True, "service.max_speakers": 3})
    params = connection_params(s)
    assert params["speaker_labels"] is True and params["max_speakers"] == 3
    assert params["language_detection"] is True and params["session_heartbeat"] is True
    s = settings(tmp_path, **{"service.max_speakers": 3})
    assert "speaker_labels" not in connection_params(s) and "max_speakers" not in connection_params(s)
    assert ignored_settings(s) == ["service.max_speakers is not sent: it needs speaker_labels (--speakers)"]


def test_max_speakers_range(tmp_path):
    with pytest.raises(ConfigError, match="service.max_speakers must be a number from 0 to 10"):
        settings(tmp_path, '[service]\nmax_speakers = 11\n')


def test_status_bar_shows_the_model_the_service_runs_and_its_real_time_factor():
    from tui.widgets.status import StatusView

    texts = [(text, style) for _, text, style in StatusView(model_used="universal-3-5-pro",
                                                            realtime_factor=0.99).segments()]
    assert ("model universal-3-5-pro", "status-bar--warn") in texts and ("RTF 0.99", "") in texts
    fast = [text for _, text, _ in StatusView(realtime_factor=1.3).segments()]
    assert "RTF 1.30: faster than real time" in fast


def test_pause_waits_out_the_models_own_turn_silence(tmp_path):
    from tui.service_params import max_turn_silence

    assert max_turn_silence(settings(tmp_path)) == 1280
    assert max_turn_silence(settings(tmp_path, '[service]\nspeech_model = "universal-3-6-pro"\n'
                                                'mode = "max_accuracy"\n')) == 2560
    assert max_turn_silence(settings(tmp_path, '[service]\nspeech_model = "universal-3-6-pro"\n'
                                                'max_turn_silence = 900\n')) == 900
