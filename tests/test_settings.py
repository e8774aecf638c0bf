from pathlib import Path

import pytest

from knowledge.settings import PROJECT_ROOT, SettingsError, load_settings


def test_defaults_come_from_helpdesk_yml():
    settings = load_settings(environ={})
    assert settings.config_file == PROJECT_ROOT / "helpdesk.yml"
    assert settings.content.dir == PROJECT_ROOT / "knowledge" / "content"
    assert settings.languages.curated == ("it", "en", "ar", "fr", "uk")
    assert 0 < settings.retrieval.confidence_threshold < 1
    assert settings.services.web_port == 8080


def test_environment_overrides_a_setting(tmp_path):
    settings = load_settings(
        environ={
            "HELPDESK_MODELS_DIR": str(tmp_path),
            "HELPDESK_CONFIDENCE_THRESHOLD": "0.9",
            "HELPDESK_SUPPORTED_LANGUAGES": "it,en,ar,fr,uk,fa",
            "HELPDESK_WEB_PORT": "9000",
        }
    )
    assert settings.models.dir == tmp_path
    assert settings.retrieval.confidence_threshold == 0.9
    assert settings.languages.supported[-1] == "fa"
    assert settings.services.web_port == 9000


def test_local_model_folder_is_found_only_when_present(tmp_path):
    (tmp_path / "multilingual-e5-small").mkdir()
    settings = load_settings(environ={"HELPDESK_MODELS_DIR": str(tmp_path)})
    assert settings.models.local_folder("intfloat/multilingual-e5-small") == (
        tmp_path / "multilingual-e5-small"
    )
    assert settings.models.local_folder("intfloat/other") is None


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("HELPDESK_CONFIDENCE_THRESHOLD", "high", "HELPDESK_CONFIDENCE_THRESHOLD"),
        ("HELPDESK_CONFIDENCE_THRESHOLD", "1.5", "from 0 to 1"),
        ("HELPDESK_WEB_PORT", "0", "HELPDESK_WEB_PORT"),
        ("HELPDESK_DEFAULT_LANGUAGE", "xx", "languages.supported"),
    ],
)
def test_a_wrong_value_names_the_setting_and_the_fix(variable, value, named):
    with pytest.raises(SettingsError) as error:
        load_settings(environ={variable: value})
    assert named in str(error.value)


def test_a_missing_file_says_which_variable_to_set(tmp_path):
    with pytest.raises(SettingsError, match="HELPDESK_CONFIG"):
        load_settings(Path(tmp_path / "nowhere.yml"), environ={})
