"""Config: strict schema, precedence, one-line errors, the example file."""


import paths
from configs import write_config
import pytest

from tui.config import ConfigError, example_toml, load_settings

ROOT = paths.ROOT



def test_example_file_is_current_and_loads():
    example = ROOT / "config.example.toml"
    assert example.read_text() == example_toml(), "regenerate: python -m tui.config > config.example.toml"
    settings = load_settings(example, env={})
    assert settings["service.engine"] == "auto"
    assert settings["audio.chunk_ms"] == 50


def test_every_key_is_documented_in_the_example():
    text = (ROOT / "config.example.toml").read_text()
    from tui.config import SCHEMA

    for key in SCHEMA:
        assert f"\n{key.name} = " in text
        assert f"# {key.doc}" in text


def test_precedence_flag_over_env_over_file_over_default(tmp_path):
    path = write_config(tmp_path, '[service]\nengine = "local"\napi_key = "from-file"\n[ui]\nscrollback = 200\n')
    s = load_settings(path, env={"ASSEMBLYAI_API_KEY": "from-env"}, overrides={"service.engine": "assemblyai"})
    assert s["service.engine"] == "assemblyai"  # flag beats file
    assert s.api_key == "from-env"  # env beats file
    assert s["ui.scrollback"] == 200  # file beats default
    assert s["ui.meter_rate"] == 10  # default


@pytest.mark.parametrize("text,expected", [
    ('[service]\nengine = "cloud"\n', "service.engine must be one of auto, assemblyai, local (got 'cloud')"),
    ('[service]\nenigne = "local"\n', "unknown key service.enigne; [service] keys are engine, url"),
    ('[audio]\nchunk_ms = 20\n', "audio.chunk_ms must be a number from 50 to 1000 (got 20)"),
    ('[audio]\nchunk_ms = "50"\n', "audio.chunk_ms must be a number from 50 to 1000 (got '50')"),
    ('[ui]\ntimestamps = true\n', "ui.timestamps must be one of off, offset, wall (got True)"),
    ('[service]\nformat_turns = 1\n', "service.format_turns must be true or false (got 1)"),
    ('[video]\nx = 1\n', "unknown section [video]"),
    ('[service]\nkeyterms = ["' + "x" * 51 + '"]\n', "service.keyterms must be a list of strings"),
    ("[service\n", "not valid TOML"),
])
def test_bad_values_name_file_key_and_allowed(tmp_path, text, expected):
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    message = str(err.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_secret_value_is_not_echoed(tmp_path):
    path = write_config(tmp_path, "[service]\napi_key = 12345\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert "12345" not in str(err.value)


def test_key_in_world_readable_file_warns(tmp_path):
    path = write_config(tmp_path, '[service]\napi_key = "k"\n')
    path.chmod(0o644)
    assert any("chmod 600" in w for w in load_settings(path, env={}).warnings)
    path.chmod(0o600)
    assert load_settings(path, env={}).warnings == []


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_settings(tmp_path / "nope.toml", env={})


def test_keymap_section_is_read(tmp_path):
    path = write_config(tmp_path, '[keymap]\npause = "space,p,k"\n')
    assert load_settings(path, env={}).keymap == {"pause": "space,p,k"}
