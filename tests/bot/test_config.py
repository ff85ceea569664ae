"""bot.config: TROPA_* parsing, and operator errors that name the variable and never echo a secret."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.config import ConfigError, decode_key, load_settings, parse_admin_ids, parse_mirrors

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
KEY_BYTES = bytes(range(32))
KEY = base64.urlsafe_b64encode(KEY_BYTES).decode("ascii")

pytestmark = pytest.mark.usefixtures("clean_env")


def config_error(**env: str) -> str:
    """The one-line ConfigError that loading these variables gives."""
    mp = pytest.MonkeyPatch()
    try:
        for name, value in env.items():
            mp.setenv(f"TROPA_{name.upper()}", value)
        with pytest.raises(ConfigError) as caught:
            load_settings()
    finally:
        mp.undo()
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_defaults() -> None:
    settings = load_settings()
    assert settings.bot_token is None
    assert settings.secret_key is None
    assert settings.admin_ids == {}
    assert settings.log_level == "INFO"
    assert settings.db_path == Path("tropa.sqlite3")
    assert settings.api_base_url == "https://api.telegram.org/bot"
    assert settings.file_url == "https://api.telegram.org/file/bot"


def test_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TROPA_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TROPA_SECRET_KEY", KEY)
    monkeypatch.setenv("TROPA_DB_PATH", str(tmp_path / "x.sqlite3"))
    monkeypatch.setenv("TROPA_LOG_LEVEL", "debug")
    monkeypatch.setenv("TROPA_API_BASE_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("TROPA_CONTENT_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.token() == TOKEN
    assert settings.key() == KEY_BYTES
    assert settings.db_path == tmp_path / "x.sqlite3"
    assert settings.log_level == "DEBUG"
    assert settings.file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.content_dir == tmp_path


def test_explicit_file_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROPA_API_FILE_URL", "http://files.local/x")
    assert load_settings().file_url == "http://files.local/x"


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # .env.example ships every variable empty.
    for name in ("BOT_TOKEN", "SECRET_KEY", "ADMIN_IDS", "LOG_LEVEL"):
        monkeypatch.setenv(f"TROPA_{name}", "")
    settings = load_settings()
    assert (settings.bot_token, settings.secret_key, settings.admin_ids, settings.log_level) == (None, None, {}, "INFO")


def test_dotenv_in_the_working_directory_is_read(clean_env: Path) -> None:
    (clean_env / ".env").write_text(f"TROPA_BOT_TOKEN={TOKEN}\nTROPA_LOG_LEVEL=warning\n", encoding="utf-8")
    settings = load_settings()
    assert settings.token() == TOKEN
    assert settings.log_level == "WARNING"


def test_environment_beats_dotenv(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / ".env").write_text("TROPA_LOG_LEVEL=warning\n", encoding="utf-8")
    monkeypatch.setenv("TROPA_LOG_LEVEL", "error")
    assert load_settings().log_level == "ERROR"


def test_other_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROPA_SOMETHING_NEW", "x")
    assert load_settings().log_level == "INFO"


def test_overrides(tmp_path: Path) -> None:
    assert load_settings(db_path=tmp_path / "o.sqlite3").db_path == tmp_path / "o.sqlite3"


# Admin ids


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anna:123,boris:456", {123: "anna", 456: "boris"}),
        (" anna : 123 , boris:456 ,", {123: "anna", 456: "boris"}),
        ("123,456", {123: "admin1", 456: "admin2"}),
        ("anna:123,456", {123: "anna", 456: "admin2"}),
        ("a.b-c_d:7", {7: "a.b-c_d"}),
        ("", {}),
    ],
)
def test_parse_admin_ids(text: str, expected: dict[int, str]) -> None:
    assert parse_admin_ids(text) == expected


def test_admin_ids_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROPA_ADMIN_IDS", "anna:123,boris:456")
    assert load_settings().admin_ids == {123: "anna", 456: "boris"}


@pytest.mark.parametrize("text", ["anna:x", "anna:-5", "1anna:5", "anna", "anna:1:2", "ann a:5", "a" * 33 + ":5"])
def test_bad_admin_ids_are_one_line_naming_the_variable(text: str) -> None:
    message = config_error(admin_ids=text)
    assert message.startswith("TROPA_ADMIN_IDS is invalid: ")
    assert "alias:telegram_id" in message


# Operator errors


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "123456789:short",
        "12:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw!",
        "123456789 AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        " 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    ],
)
def test_bad_token_names_the_variable_and_hides_the_value(token: str) -> None:
    message = config_error(bot_token=token)
    assert message.startswith("TROPA_BOT_TOKEN is invalid: ")
    assert "@BotFather" in message
    assert token.strip() not in message
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in message


@pytest.mark.parametrize(
    "key",
    [
        "short",
        base64.urlsafe_b64encode(bytes(16)).decode(),
        base64.urlsafe_b64encode(bytes(33)).decode(),
        "ключ-ключ-ключ-ключ-ключ-ключ-ключ-ключ-ключ",
        KEY[:-3] + "%%%",
        KEY[:20],
    ],
)
def test_bad_key_names_the_variable_and_hides_the_value(key: str) -> None:
    message = config_error(secret_key=key)
    assert message.startswith("TROPA_SECRET_KEY is invalid: ")
    assert "tropa keygen" in message
    assert key not in message


def test_bad_log_level() -> None:
    message = config_error(log_level="verbose")
    assert message == "TROPA_LOG_LEVEL is invalid: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"


def test_bad_api_url() -> None:
    assert config_error(api_base_url="api.telegram.org/bot").startswith("TROPA_API_BASE_URL is invalid: ")


def test_missing_token_and_key_are_config_errors() -> None:
    settings = load_settings()
    with pytest.raises(ConfigError, match=r"^TROPA_BOT_TOKEN is not set: .*@BotFather"):
        settings.token()
    with pytest.raises(ConfigError, match=r"^TROPA_SECRET_KEY is not set: run `tropa keygen`"):
        settings.key()


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROPA_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TROPA_SECRET_KEY", KEY)
    settings = load_settings()
    for shown in (str(settings), repr(settings), settings.model_dump_json()):
        assert TOKEN not in shown
        assert KEY not in shown


# Webhook mode


SECRET = "hook-Secret_42"


def test_polling_unless_a_webhook_url_is_set() -> None:
    settings = load_settings()
    assert settings.webhook() is None
    assert (settings.listen, settings.port) == ("127.0.0.1", 8080)


def test_webhook_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROPA_WEBHOOK_URL", "https://bot.example.org:8443/tg/updates")
    monkeypatch.setenv("TROPA_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TROPA_LISTEN", "10.1.2.3")
    monkeypatch.setenv("TROPA_PORT", "9000")
    hook = load_settings().webhook()
    assert hook is not None
    assert (hook.url, hook.path, hook.secret, hook.listen, hook.port) == (
        "https://bot.example.org:8443/tg/updates",
        "/tg/updates",
        SECRET,
        "10.1.2.3",
        9000,
    )
    assert SECRET not in repr(hook)
    assert SECRET not in repr(load_settings())


@pytest.mark.parametrize(
    "url",
    ["http://bot.example.org/tg", "bot.example.org/tg", "https:///tg", "https://user:pw@bot.example.org/tg", "ftp://x"],
)
def test_a_webhook_url_must_be_public_https(url: str) -> None:
    assert config_error(webhook_url=url).startswith("TROPA_WEBHOOK_URL is invalid: must be the public https://")


def test_a_webhook_url_on_a_port_telegram_does_not_deliver_to() -> None:
    assert config_error(webhook_url="https://bot.example.org:8080/tg") == (
        "TROPA_WEBHOOK_URL is invalid: Telegram only delivers to ports 443, 80, 88 and 8443"
    )


def test_webhook_mode_needs_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROPA_WEBHOOK_URL", "https://bot.example.org/tg")
    with pytest.raises(ConfigError, match=r"^TROPA_WEBHOOK_SECRET is not set: .*`tropa keygen --webhook`"):
        load_settings().webhook()


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "слово", "a=b", "semi;colon"])
def test_a_malformed_webhook_secret_names_the_variable_without_echoing_it(secret: str) -> None:
    message = config_error(webhook_secret=secret)
    assert message.startswith("TROPA_WEBHOOK_SECRET is invalid: must be 1 to 256 of A-Z, a-z, 0-9, _ and -")
    assert secret not in message


@pytest.mark.parametrize("secret", ["a", "x" * 256, "A-z_0-9"])
def test_webhook_secrets_telegram_accepts(secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROPA_WEBHOOK_SECRET", secret)
    settings = load_settings()
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == secret


@pytest.mark.parametrize(
    ("name", "value"), [("listen", "localhost:80"), ("listen", "any"), ("port", "0"), ("port", "x")]
)
def test_bad_listen_address_or_port(name: str, value: str) -> None:
    assert config_error(**{name: value}).startswith(f"TROPA_{name.upper()} is invalid: ")


def test_the_webhook_must_be_on_the_proxy_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROPA_WEBHOOK_URL", "https://bot.example.org/tg")
    monkeypatch.setenv("TROPA_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TROPA_PROXY_DOMAIN", "Bot.Example.org")
    assert load_settings().webhook() is not None
    monkeypatch.setenv("TROPA_PROXY_DOMAIN", "other.example.org")
    with pytest.raises(ConfigError, match=r"^TROPA_WEBHOOK_URL must be on TROPA_PROXY_DOMAIN"):
        load_settings().webhook()


def test_the_webhook_secret_is_among_the_secrets_the_log_masks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROPA_WEBHOOK_SECRET", SECRET)
    assert SECRET in load_settings().secrets()


# systemd credentials


def test_secrets_are_read_from_systemd_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "TROPA_BOT_TOKEN").write_text(TOKEN + "\n")
    (tmp_path / "TROPA_SECRET_KEY").write_text(KEY + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    settings = load_settings()
    assert settings.token() == TOKEN
    assert settings.key() == KEY_BYTES


def test_the_environment_wins_over_a_credential(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "TROPA_LOG_LEVEL").write_text("ERROR")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert load_settings().log_level == "ERROR"
    monkeypatch.setenv("TROPA_LOG_LEVEL", "DEBUG")
    assert load_settings().log_level == "DEBUG"


def test_a_credentials_directory_that_is_gone_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "gone"))
    assert load_settings().bot_token is None


def test_a_malformed_credential_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "TROPA_SECRET_KEY").write_text("not a key")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    with pytest.raises(ConfigError, match=r"^TROPA_SECRET_KEY is invalid: must be urlsafe base64 of 32 bytes"):
        load_settings()


# Keys


def test_decode_key_accepts_keygen_output_with_or_without_padding() -> None:
    assert decode_key(KEY) == KEY_BYTES
    assert decode_key(KEY.rstrip("=")) == KEY_BYTES
    assert decode_key(f"  {KEY}\n") == KEY_BYTES


@pytest.mark.parametrize("text", ["", "AAAA", "ключ", base64.urlsafe_b64encode(bytes(31)).decode()])
def test_decode_key_refuses_anything_but_32_bytes(text: str) -> None:
    with pytest.raises(ValueError, match="urlsafe base64 of 32 bytes"):
        decode_key(text)


def test_secrets_lists_every_secret_value_for_the_redactor(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().secrets() == []
    monkeypatch.setenv("TROPA_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TROPA_SECRET_KEY", KEY)
    found = load_settings().secrets()
    assert TOKEN in found
    assert KEY in found
    assert TOKEN.partition(":")[2] in found  # the token's secret half, in case the colon is encoded


# Fallback contacts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@tropa_backup_bot", ("@tropa_backup_bot",)),
        (
            " @tropa_backup_bot , https://t.me/tropa_news,t.me/Tropa_Mirror/ ,",
            ("@tropa_backup_bot", "@tropa_news", "@Tropa_Mirror"),
        ),
        (
            "https://t.me/+AbCdEf123456, telegram.me/joinchat/AAAAAE_xyz12345",
            (
                "https://t.me/+AbCdEf123456",
                "https://t.me/+AAAAAE_xyz12345",
            ),
        ),
        ("@tropa_news, https://t.me/Tropa_News", ("@tropa_news",)),  # usernames ignore case: listed once
        ("", ()),
    ],
)
def test_parse_mirrors(text: str, expected: tuple[str, ...]) -> None:
    assert parse_mirrors(text) == expected


def test_mirrors_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROPA_MIRRORS", "@tropa_backup_bot,https://t.me/tropa_news")
    assert load_settings().mirrors == ("@tropa_backup_bot", "@tropa_news")
    monkeypatch.delenv("TROPA_MIRRORS")
    assert load_settings().mirrors == ()


@pytest.mark.parametrize(
    "text",
    [
        "tropa_backup_bot",
        "@abc",
        "@bad-name",
        "@1tropa",
        "https://example.org/tropa",
        "https://t.me/tropa/12",
        "t.me/+short",
        "https://t.me/",
        ",".join(f"@mirror_{n}" for n in range(11)),
    ],
)
def test_bad_mirrors_are_one_line_naming_the_variable(text: str) -> None:
    assert config_error(mirrors=text).startswith("TROPA_MIRRORS is invalid: ")


# Flood limit


def test_flood_limit_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.flood_burst, settings.flood_rate) == (20, 1.0)
    monkeypatch.setenv("TROPA_FLOOD_BURST", "1000")
    monkeypatch.setenv("TROPA_FLOOD_RATE", "0.5")
    settings = load_settings()
    assert (settings.flood_burst, settings.flood_rate) == (1000, 0.5)


@pytest.mark.parametrize(
    ("name", "value"), [("flood_burst", "0"), ("flood_burst", "x"), ("flood_rate", "0"), ("flood_rate", "-1")]
)
def test_bad_flood_limits_name_the_variable(name: str, value: str) -> None:
    assert config_error(**{name: value}).startswith(f"TROPA_{name.upper()} is invalid: ")
