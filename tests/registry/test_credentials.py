"""engine.registry.credentials: docker config files and real credential-helper executables."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from fixtures_registry import basic_auth_entry, docker_config

from engine.core.errors import DigestError
from engine.registry.credentials import DOCKER_HUB_KEY, Credential, Keychain, docker_config_dir


def env_for(
    tmp_path: Path, config: dict[str, object] | None = None, **extra: str
) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    if config is not None:
        env["DOCKER_CONFIG"] = str(docker_config(tmp_path / "docker", config))
    env.update(extra)
    return env


def helper(tmp_path: Path, name: str, body: str) -> str:
    """Write ``docker-credential-<name>`` into tmp/bin; returns a PATH that finds it first."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    exe = bindir / f"docker-credential-{name}"
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}"


def test_config_dir_from_env(tmp_path: Path) -> None:
    assert docker_config_dir({"DOCKER_CONFIG": "/x/y", "HOME": "/h"}) == "/x/y"
    assert docker_config_dir({"HOME": "/h"}) == "/h/.docker"


def test_no_config_is_anonymous(tmp_path: Path) -> None:
    cred = Keychain(env_for(tmp_path)).lookup("reg.example:5000")
    assert cred.anonymous and cred.source == "anonymous"


def test_auths_basic_by_host_and_by_url(tmp_path: Path) -> None:
    env = env_for(
        tmp_path,
        {
            "auths": {
                "reg.example:5000": basic_auth_entry("alice", "pw1"),
                "https://other.example/v1/": basic_auth_entry("bob", "pw:2"),
            }
        },
    )
    chain = Keychain(env)
    first = chain.lookup("reg.example:5000")
    assert (first.username, first.password) == ("alice", "pw1")
    assert "config.json" in first.source
    second = chain.lookup("other.example")
    assert (second.username, second.password) == ("bob", "pw:2")
    assert chain.lookup("third.example").anonymous


def test_docker_hub_is_normalised(tmp_path: Path) -> None:
    env = env_for(tmp_path, {"auths": {DOCKER_HUB_KEY: basic_auth_entry("hubuser", "hubpw")}})
    cred = Keychain(env).lookup("index.docker.io")
    assert (cred.username, cred.password) == ("hubuser", "hubpw")


def test_identity_token(tmp_path: Path) -> None:
    env = env_for(tmp_path, {"auths": {"reg.example": {"identitytoken": "refresh-me"}}})
    cred = Keychain(env).lookup("reg.example")
    assert cred.identity_token == "refresh-me"
    assert cred.docker_auth_config() == {"identitytoken": "refresh-me"}


def test_home_docker_config_used_without_docker_config(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    dot = Path(env["HOME"]) / ".docker"
    docker_config(dot, {"auths": {"reg.example": basic_auth_entry("carol", "pw3")}})
    assert Keychain(env).lookup("reg.example").username == "carol"


def test_cred_helper_wins_over_auths(tmp_path: Path) -> None:
    log = tmp_path / "calls"
    path = helper(
        tmp_path,
        "good",
        f'read s; echo "$1 $s" >> {log}\n'
        'echo \'{"ServerURL":"x","Username":"helperuser","Secret":"helperpw"}\'\n',
    )
    env = env_for(
        tmp_path,
        {
            "auths": {"reg.example": basic_auth_entry("fileuser", "filepw")},
            "credHelpers": {"reg.example": "good"},
        },
        PATH=path,
    )
    chain = Keychain(env)
    cred = chain.lookup("reg.example")
    assert (cred.username, cred.password) == ("helperuser", "helperpw")
    assert cred.source == "credential helper docker-credential-good"
    chain.lookup("reg.example")  # cached: the helper runs once
    assert log.read_text() == "get reg.example\n"


def test_creds_store_for_docker_hub_gets_legacy_key(tmp_path: Path) -> None:
    log = tmp_path / "calls"
    path = helper(
        tmp_path,
        "store",
        f'read s; echo "$s" >> {log}\necho \'{{"Username":"<token>","Secret":"idtok"}}\'\n',
    )
    env = env_for(tmp_path, {"credsStore": "store"}, PATH=path)
    cred = Keychain(env).lookup("index.docker.io")
    assert cred.identity_token == "idtok" and not cred.username
    assert log.read_text() == DOCKER_HUB_KEY + "\n"


def test_helper_without_entry_falls_back_to_auths(tmp_path: Path) -> None:
    path = helper(tmp_path, "empty", "echo 'credentials not found in native keychain'; exit 1\n")
    env = env_for(
        tmp_path,
        {"auths": {"reg.example": basic_auth_entry("fileuser", "filepw")}, "credsStore": "empty"},
        PATH=path,
    )
    chain = Keychain(env)
    assert chain.lookup("reg.example").username == "fileuser"
    assert "reg.example" not in chain.notes


def test_missing_or_failing_helper_is_noted(tmp_path: Path) -> None:
    path = helper(tmp_path, "broken", "echo boom >&2; exit 3\n")
    env = env_for(
        tmp_path,
        {"credHelpers": {"a.example": "absent", "b.example": "broken"}},
        PATH=path,
    )
    chain = Keychain(env)
    assert chain.lookup("a.example").anonymous
    assert (
        chain.notes["a.example"] == "credential helper docker-credential-absent not found on PATH"
    )
    assert chain.lookup("b.example").anonymous
    assert "exit status 3" in chain.notes["b.example"]


def test_bad_config_names_file_not_secret(tmp_path: Path) -> None:
    env = env_for(tmp_path, {"auths": {"reg.example": {"auth": "!!!not-base64-s3cr3t"}}})
    with pytest.raises(DigestError) as info:
        Keychain(env).lookup("reg.example")
    assert "config.json" in str(info.value)
    assert "s3cr3t" not in str(info.value)


def test_credential_repr_hides_secrets() -> None:
    cred = Credential(username="u", password="hunter2", identity_token="tok", source="x")
    assert "hunter2" not in repr(cred) and "tok'" not in repr(cred)
    assert json.dumps(cred.docker_auth_config()) == '{"identitytoken": "tok"}'
