"""deploy/: the image and the unit can't run here (no Docker engine, no systemd), so their commands run as written.

The Dockerfile's build stage is replayed (its COPY lines, then its RUN lines) into a fresh virtual environment, once
per session; its HEALTHCHECK and its ENTRYPOINT and CMD then run with its ENV and compose.yaml's environment.
tropa.service's ExecStart runs with its Environment=, an EnvironmentFile= and its LoadCredential= files the way
systemd hands them over. Paths like /opt/tropa and /data are moved under a temporary root; nothing else changes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from bot.config import REPO_ROOT
from tests.e2e.conftest import KEY, TOKEN
from tests.e2e.test_webhook import SECRET, URL, free_port
from tests.emulator import BotApiEmulator

DEPLOY = REPO_ROOT / "deploy"
MOVED = ("/opt/tropa", "/src", "/data", "/var/lib/tropa", "/etc/tropa")


def moved(text: str, root: Path) -> str:
    """text with every absolute path the deployment uses moved under root."""
    for prefix in MOVED:
        text = re.sub(rf"(?<![\w/.-]){re.escape(prefix)}(?=[/\s\"':]|$)", f"{root}{prefix}", text)
    return text


@dataclass
class Stage:
    """One FROM ... stage of the Dockerfile: its instructions in order, continuation lines joined."""

    name: str
    steps: list[tuple[str, str]] = field(default_factory=list)

    def all(self, instruction: str) -> list[str]:
        return [arg for name, arg in self.steps if name == instruction]


def dockerfile_stages() -> list[Stage]:
    lines = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
    stages: list[Stage] = []
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, arg = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append(Stage(arg.split(" AS ")[-1] if " AS " in arg else ""))
        elif stages:
            stages[-1].steps.append((instruction.upper(), arg.strip()))
    return stages


def apply_env(stage: Stage, env: dict[str, str], root: Path) -> dict[str, str]:
    """The stage's ENV lines applied to env ($VAR expanded as Docker does), paths moved under root."""
    env = dict(env)
    for arg in stage.all("ENV"):
        for pair in shlex.split(arg):
            name, _, value = pair.partition("=")
            value = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), value)
            env[name] = moved(value, root)
    return env


def exec_form(arg: str) -> list[str]:
    """A JSON exec-form argument (`CMD ["tropa", "health"]`)."""
    value = json.loads(arg)
    assert isinstance(value, list)
    return [str(v) for v in value]


@dataclass
class Image:
    """The replayed image: its root, its runtime environment, and what it runs."""

    root: Path
    env: dict[str, str]
    workdir: Path
    healthcheck: list[str]
    command: list[str]


def base_env() -> dict[str, str]:
    """This machine's environment without any Tropa setting, plus a `python` as the image has."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TROPA_") and k != "CREDENTIALS_DIRECTORY"}


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The Dockerfile's build stage replayed into a fresh virtual environment (about half a minute, once)."""
    root = tmp_path_factory.mktemp("image")
    build, runtime = dockerfile_stages()
    shims = root / "shims"
    shims.mkdir()
    (shims / "python").symlink_to(sys.executable)
    env = apply_env(build, {**base_env(), "PATH": f"{shims}:{os.environ['PATH']}"}, root)
    for name, arg in build.steps:
        if name == "COPY":
            *sources, dest = shlex.split(arg)
            target = Path(moved(dest, root))
            for source in sources:
                origin = REPO_ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target / origin.name)
        elif name == "RUN":
            subprocess.run(["/bin/sh", "-c", moved(arg, root)], env=env, check=True, capture_output=True, timeout=600)
    (workdir,) = runtime.all("WORKDIR")
    (healthcheck,) = runtime.all("HEALTHCHECK")
    (entrypoint,) = runtime.all("ENTRYPOINT")
    (cmd,) = runtime.all("CMD")
    data = Path(moved(workdir, root))
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Image(
        root,
        apply_env(runtime, base_env(), root),
        data,
        exec_form(healthcheck.split("CMD", 1)[1].strip()),
        exec_form(entrypoint) + exec_form(cmd),
    )


def compose_environment(image: Image) -> dict[str, str]:
    """What compose.yaml sets for the bot service, paths moved."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return {k: moved(str(v), image.root) for k, v in compose["services"]["bot"]["environment"].items()}


def tree(root: Path, skip: Path) -> set[str]:
    """Every file under root except those under skip."""
    return {str(p) for p in root.rglob("*") if skip not in p.parents and p != skip}


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def clean_data(image: Image) -> Path:
    """The image's /data, empty for each test."""
    for entry in image.workdir.iterdir():
        entry.unlink()
    return image.workdir


async def serve_and_stop(argv: list[str], env: dict[str, str], cwd: Path, emulator: BotApiEmulator) -> str:
    """Start the bot, have it answer /start, SIGTERM it: it must exit 0 within 10 seconds. Returns its stderr."""
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        user = emulator.user(user_id=5600001, first_name="Deploy", language_code="ru")
        emulator.send_message(user, "/start")
        await emulator.wait_for(lambda: bool(emulator.bot_messages(user)), timeout=60)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        took = time.monotonic() - started
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert took < 10, f"{took:.1f} s to stop"
    assert "Traceback" not in err.decode()
    return err.decode()


# The image


def test_the_image_holds_a_complete_tropa(image: Image) -> None:
    site = next((image.root / "opt" / "tropa" / "lib").glob("python3*/site-packages"))
    assert (site / "bot" / "locales" / "ru.toml").is_file()
    assert (site / "storage" / "migrations" / "0001_content.sql").is_file()
    assert len(list((site / "content").glob("*/*/ru.md"))) == len(list((REPO_ROOT / "content").glob("*/*/ru.md")))
    assert not (site / "tests").exists()
    assert shutil.which("tropa", path=image.env["PATH"]) == str(image.root / "opt" / "tropa" / "bin" / "tropa")


def test_the_health_check_fails_without_a_database_and_passes_once_migrated(image: Image, clean_data: Path) -> None:
    env = {**image.env, **compose_environment(image), "TROPA_SECRET_KEY": KEY}
    missing = run(image.healthcheck, env, clean_data)
    assert missing.returncode == 1
    assert missing.stderr == f"tropa: {clean_data / 'tropa.sqlite3'}: no database there\n"
    assert run(["tropa", "migrate"], env, clean_data).returncode == 0
    healthy = run(image.healthcheck, env, clean_data)
    assert healthy.returncode == 0, healthy.stderr
    assert healthy.stdout.startswith("healthy: schema ")


async def test_the_image_runs_the_bot_writing_only_to_data(
    image: Image, clean_data: Path, emulator: BotApiEmulator
) -> None:
    env = {
        **image.env,
        **compose_environment(image),
        "TROPA_BOT_TOKEN": TOKEN,
        "TROPA_SECRET_KEY": KEY,
        "TROPA_API_BASE_URL": emulator.base_url,
    }
    before = tree(image.root, clean_data)
    await serve_and_stop(image.command, env, clean_data, emulator)
    assert tree(image.root, clean_data) == before, "something was written outside /data: --read-only would break"
    assert os.listdir(clean_data) == ["tropa.sqlite3"]
    health = run(image.healthcheck, env, clean_data)
    assert health.returncode == 0, health.stderr
    assert not health.stdout.startswith("healthy: schema 0"), health.stdout
    assert " 0 items" not in health.stdout, "the bundled content was not imported"


def test_compose_runs_that_image_read_only_with_its_data_on_a_volume(image: Image) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    bot = compose["services"]["bot"]
    assert (
        REPO_ROOT / "deploy" / bot["build"]["context"] / bot["build"]["dockerfile"]
    ).resolve() == DEPLOY / "Dockerfile"
    assert bot["read_only"] is True
    assert bot["env_file"] == ".env"
    assert [v.split(":")[1] for v in bot["volumes"]] == ["/data"]
    assert "ports" not in bot, "the bot's port must stay inside the compose network"
    assert bot["environment"]["TROPA_DB_PATH"] == image.env["TROPA_DB_PATH"].replace(str(image.root), "")
    proxy = compose["services"]["proxy"]
    assert proxy["profiles"] == ["proxy"]
    assert proxy["image"].startswith("caddy:")
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert f"reverse_proxy bot:{bot['environment']['TROPA_PORT']}" in caddyfile
    assert "{$TROPA_PROXY_DOMAIN}" in caddyfile
    assert "TROPA_BOT_TOKEN" not in json.dumps(proxy)


# The systemd unit


def unit_settings(text: str) -> dict[str, list[str]]:
    """The [Service] section's settings, each with every value it is given (comments skipped)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


@pytest.fixture(scope="session")
def unit() -> dict[str, list[str]]:
    return unit_settings((DEPLOY / "tropa.service").read_text(encoding="utf-8"))


def test_the_unit_is_hardened(unit: dict[str, list[str]]) -> None:
    expected = {
        "DynamicUser": "yes",
        "StateDirectory": "tropa",
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "RestrictSUIDSGID": "yes",
        "CapabilityBoundingSet": "",
        "UMask": "0077",
    }
    assert {key: unit.get(key, [None])[-1] for key in expected} == expected
    assert all(value.startswith("/etc/tropa/") for value in unit["EnvironmentFile"] for value in [value.lstrip("-")])
    credentials = dict(value.split(":", 1) for value in unit["LoadCredential"])
    assert {"TROPA_BOT_TOKEN", "TROPA_SECRET_KEY"} <= set(credentials)
    assert unit["RestartPreventExitStatus"] == ["2"]


def systemd_start(unit: dict[str, list[str]], root: Path, credentials: Path, settings: str) -> Invocation:
    """What systemd does for ExecStart: read the EnvironmentFile (as root), copy each LoadCredential file into a
    directory only the service reads (named by its id), set Environment=, then run the command in WorkingDirectory.
    """
    state = Path(moved("/var/lib/tropa", root))
    if state.exists():
        shutil.rmtree(state)
    state.mkdir(parents=True, mode=0o700)
    env_file = Path(moved(unit["EnvironmentFile"][0].lstrip("-"), root))
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text(settings, encoding="utf-8")
    secrets = {"TROPA_BOT_TOKEN": TOKEN, "TROPA_SECRET_KEY": KEY}
    credentials.mkdir(mode=0o700)
    for ident, source in (value.split(":", 1) for value in unit["LoadCredential"]):
        Path(moved(source, root)).write_text(secrets[ident] + "\n", encoding="utf-8")
        shutil.copy(moved(source, root), credentials / ident)
    env = {**base_env(), "CREDENTIALS_DIRECTORY": str(credentials)}
    for assignment in unit.get("Environment", []):
        name, _, value = assignment.partition("=")
        env[name] = moved(value, root)
    for line in env_file.read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        env[name] = value
    (exec_start,) = unit["ExecStart"]
    return Invocation(shlex.split(moved(exec_start, root)), env, Path(moved(unit["WorkingDirectory"][0], root)))


@dataclass
class Invocation:
    argv: list[str]
    env: dict[str, str]
    cwd: Path


async def test_the_unit_runs_the_bot_in_webhook_mode(
    image: Image, unit: dict[str, list[str]], tmp_path: Path, emulator: BotApiEmulator
) -> None:
    port = free_port()
    credentials = tmp_path / "credentials"
    # The same fresh environment as the image: deploy/README.md installs it with the Dockerfile's command.
    start = systemd_start(
        unit,
        image.root,
        credentials,
        f"TROPA_WEBHOOK_URL={URL}\nTROPA_PORT={port}\nTROPA_API_BASE_URL={emulator.base_url}\n",
    )
    assert "TROPA_BOT_TOKEN" not in start.env, "secrets come from credentials, never from the environment"
    assert sorted(os.listdir(credentials)) == ["TROPA_BOT_TOKEN", "TROPA_SECRET_KEY"]
    (credentials / "TROPA_WEBHOOK_SECRET").write_text(SECRET)  # the line README.md has one uncomment
    emulator.route_webhook(f"http://127.0.0.1:{port}")
    await serve_and_stop(start.argv, start.env, start.cwd, emulator)
    assert emulator.webhook is not None
    assert emulator.calls("getUpdates") == []
    assert os.listdir(start.cwd) == ["tropa.sqlite3"]


def test_tropa_admin_runs_commands_exactly_as_the_unit(unit: dict[str, list[str]]) -> None:
    script = (DEPLOY / "tropa-admin").read_text(encoding="utf-8")
    assert os.access(DEPLOY / "tropa-admin", os.X_OK)
    properties: dict[str, list[str]] = {}
    for key, value in re.findall(r"--property=(\w+)=(\S+)", script):
        properties.setdefault(key, []).append(value)
    for key, values in properties.items():
        if key in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp"):
            continue  # hardening of its own, a subset of the unit's
        assert values == unit[key], key
    assert set(properties) >= {
        "DynamicUser",
        "User",
        "StateDirectory",
        "Environment",
        "EnvironmentFile",
        "LoadCredential",
    }
    assert f'{unit["ExecStart"][0].split()[0]} "$@"' in script


def test_the_deploy_readme_installs_with_the_dockerfiles_command() -> None:
    (build, _) = dockerfile_stages()
    (install,) = build.all("RUN")
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert install.replace("python ", "python3 ").replace("/src", "/opt/tropa-src") in readme
    assert "deploy/README.md" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
