"""Settings from an explicit WARROOM_* mapping; never the caller's environ."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from warroom.settings import MIN_SECRET_LENGTH, Settings, SettingsError, load_settings

GOOD_SECRET = "k" * 20 + "3f9a0c1d2e4b5a6c"


@pytest.fixture
def base(tmp_path: Path) -> dict[str, str]:
    """A mapping whose development secret lands in a temporary var_dir."""
    return {"WARROOM_VAR_DIR": str(tmp_path / "var")}


def test_defaults(base, tmp_path):
    settings = load_settings(base)
    assert settings.env == "development"
    assert settings.var_dir == tmp_path / "var"
    assert settings.database_url == ""
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'var' / 'warroom.db'}"
    assert settings.is_sqlite
    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.workers == 1
    assert settings.smtp_url is None
    assert settings.log_level == "info"
    assert settings.max_body_bytes == 1_048_576


def test_reads_only_the_given_mapping(base, monkeypatch):
    monkeypatch.setenv("WARROOM_PORT", "9999")
    assert load_settings(base).port == 8080


def test_values_are_parsed_and_unprefixed_keys_ignored(base):
    settings = load_settings(
        {
            **base,
            "WARROOM_PORT": "9000",
            "WARROOM_WORKERS": "4",
            "WARROOM_LOG_LEVEL": "debug",
            "WARROOM_BASE_URL": "https://warroom.example.com/",
            "WARROOM_SMTP_URL": "smtps://mail.example.com:465",
            "PORT": "1",
            "DATABASE_URL": "mysql://nope",
        }
    )
    assert settings.port == 9000
    assert settings.workers == 4
    assert settings.log_level == "debug"
    assert settings.base_url == "https://warroom.example.com"
    assert settings.smtp_url == "smtps://mail.example.com:465"
    assert settings.database_url == ""


def test_empty_smtp_url_means_none(base):
    assert load_settings({**base, "WARROOM_SMTP_URL": ""}).smtp_url is None


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("postgresql://u:p@db:5432/warroom", "postgresql+psycopg://u:p@db:5432/warroom"),
        ("postgres://u@db/warroom", "postgresql+psycopg://u@db/warroom"),
        ("postgresql+psycopg://u@db/warroom", "postgresql+psycopg://u@db/warroom"),
        ("sqlite:////data/warroom.db", "sqlite:////data/warroom.db"),
    ],
)
def test_database_url_driver_is_psycopg3(base, given, stored):
    settings = load_settings({**base, "WARROOM_DATABASE_URL": given})
    assert settings.database_url == stored
    assert settings.resolved_database_url == stored
    assert settings.is_sqlite is stored.startswith("sqlite")


@pytest.mark.parametrize(
    ("variable", "value", "hint"),
    [
        ("WARROOM_PORT", "abc", "valid integer"),
        ("WARROOM_PORT", "0", "greater than or equal to 1"),
        ("WARROOM_PORT", "65536", "less than or equal to 65535"),
        ("WARROOM_WORKERS", "0", "greater than or equal to 1"),
        ("WARROOM_WORKERS", "65", "less than or equal to 64"),
        ("WARROOM_ENV", "staging", "'development' or 'production'"),
        ("WARROOM_BASE_URL", "ftp://warroom.example.com", "http(s) URL"),
        ("WARROOM_BASE_URL", "warroom.example.com", "http(s) URL"),
        ("WARROOM_DATABASE_URL", "mysql://db/warroom", "not supported"),
        ("WARROOM_SMTP_URL", "http://mail.example.com", "smtp://"),
        ("WARROOM_LOG_LEVEL", "verbose", "'debug', 'info', 'warning' or 'error'"),
        ("WARROOM_MAX_BODY_BYTES", "10", "greater than or equal to 1024"),
    ],
)
def test_bad_value_names_the_variable(base, variable, value, hint):
    with pytest.raises(SettingsError) as caught:
        load_settings({**base, variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}: ")
    assert hint in message
    assert repr(value) in message


def test_every_bad_value_is_listed(base):
    with pytest.raises(SettingsError) as caught:
        load_settings({**base, "WARROOM_PORT": "x", "WARROOM_ENV": "qa", "WARROOM_WORKERS": "0"})
    lines = str(caught.value).splitlines()
    assert sorted(line.split(":")[0] for line in lines) == [
        "WARROOM_ENV",
        "WARROOM_PORT",
        "WARROOM_WORKERS",
    ]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WARROOM_DATABASE_URL", "mysql://warroom:s3cr3t-pw@db/warroom"),
        ("WARROOM_SMTP_URL", "https://mailer:s3cr3t-pw@mail.example.com"),
    ],
)
def test_bad_url_error_does_not_reveal_its_password(base, variable, value):
    with pytest.raises(SettingsError) as caught:
        load_settings({**base, variable: value})
    assert variable in str(caught.value)
    assert "s3cr3t-pw" not in str(caught.value)


@pytest.mark.parametrize(
    ("secret", "hint"),
    [
        (None, "must be set in production"),
        ("", "must be set in production"),
        ("changeme", "placeholder"),
        ("CHANGETHIS", "placeholder"),
        ("secret", "placeholder"),
        ("x" * (MIN_SECRET_LENGTH - 1), f"at least {MIN_SECRET_LENGTH} characters"),
    ],
)
def test_production_refuses_missing_placeholder_or_short_secret(base, tmp_path, secret, hint):
    environ = {**base, "WARROOM_ENV": "production"}
    if secret is not None:
        environ["WARROOM_SECRET_KEY"] = secret
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    assert "WARROOM_SECRET_KEY" in str(caught.value)
    assert hint in str(caught.value)
    assert not (tmp_path / "var" / "secret_key").exists()


def test_production_accepts_a_real_secret_and_writes_no_file(base, tmp_path):
    settings = load_settings(
        {**base, "WARROOM_ENV": "production", "WARROOM_SECRET_KEY": GOOD_SECRET}
    )
    assert settings.env == "production"
    assert settings.secret_key == GOOD_SECRET
    assert not (tmp_path / "var").exists()


def test_development_generates_a_private_secret_and_reuses_it(base, tmp_path):
    first = load_settings(base)
    path = tmp_path / "var" / "secret_key"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret_key) >= MIN_SECRET_LENGTH
    assert path.read_text().strip() == first.secret_key
    second = load_settings(base)
    assert second.secret_key == first.secret_key


def test_development_secrets_differ_per_var_dir(tmp_path):
    one = load_settings({"WARROOM_VAR_DIR": str(tmp_path / "one")})
    two = load_settings({"WARROOM_VAR_DIR": str(tmp_path / "two")})
    assert one.secret_key != two.secret_key


def test_development_uses_a_given_secret_without_a_file(base, tmp_path):
    settings = load_settings({**base, "WARROOM_SECRET_KEY": "dev-secret"})
    assert settings.secret_key == "dev-secret"
    assert not (tmp_path / "var" / "secret_key").exists()


def test_settings_are_frozen(base):
    settings = load_settings(base)
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1  # type: ignore[misc]
    assert isinstance(settings, Settings)


def test_var_dir_that_is_a_file_names_the_variable(tmp_path):
    not_a_dir = tmp_path / "var"
    not_a_dir.write_text("")
    with pytest.raises(SettingsError) as caught:
        load_settings({"WARROOM_VAR_DIR": str(not_a_dir)})
    assert "WARROOM_VAR_DIR" in str(caught.value)
