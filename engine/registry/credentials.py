"""Registry credentials, looked up the way the docker CLI (and go-containerregistry) does.

Sources, in order: a credential helper (``credHelpers[<registry>]``, else ``credsStore``) run
as ``docker-credential-<name> get``; then the ``auths`` entries of the Docker config file
(``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``); else anonymous.  Parsing of the
config file and the key-matching rules come from the docker SDK (``docker.auth``); helpers
run through :func:`engine.core.proc.run`.

Secrets never leave a :class:`Credential`: its ``repr`` hides them and every message built
here names only the *source* (file, helper) that was tried.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.core import proc
from engine.core.errors import DigestError

# docker.auth.INDEX_URL: the key Docker Hub credentials are stored under.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
# A helper returns this user name when the secret is an identity (refresh) token.
TOKEN_USERNAME = "<token>"


@dataclass(frozen=True)
class Credential:
    """What to authenticate with; empty fields mean anonymous.  ``source`` is for messages."""

    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    source: str = "anonymous"

    @property
    def anonymous(self) -> bool:
        """True when there is nothing to send."""
        return not (self.username or self.password or self.identity_token)

    def docker_auth_config(self) -> dict[str, str] | None:
        """The ``auth_config`` mapping the docker SDK sends as X-Registry-Auth."""
        if self.identity_token:
            return {"identitytoken": self.identity_token}
        if self.username or self.password:
            return {"username": self.username, "password": self.password}
        return None


def docker_config_dir(env: Mapping[str, str]) -> str:
    """``$DOCKER_CONFIG``, else ``$HOME/.docker`` (docker's ``config.Dir()``)."""
    configured = env.get("DOCKER_CONFIG")
    if configured:
        return configured
    home = env.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".docker")


def config_key(registry: str) -> str:
    """The key a registry's credentials are stored under (Docker Hub has a legacy URL)."""
    if registry in ("index.docker.io", "docker.io", "registry-1.docker.io"):
        return DOCKER_HUB_KEY
    return registry


class Keychain:
    """Credential look-ups for one environment; results are cached per registry, thread-safe."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = dict(env)
        self._lock = threading.Lock()
        self._cache: dict[str, Credential] = {}
        self._config: object | None = None
        self._config_path = os.path.join(docker_config_dir(self._env), "config.json")
        self.notes: dict[str, str] = {}  # registry -> why a source was skipped (no secrets)

    def lookup(self, registry: str) -> Credential:
        """Credentials for ``registry`` (a host[:port] as in the image name)."""
        with self._lock:
            cached = self._cache.get(registry)
            if cached is None:
                cached = self._resolve(registry)
                self._cache[registry] = cached
            return cached

    def _auth_config(self) -> object:
        """The docker SDK's parsed view of the config file (loaded once)."""
        if self._config is None:
            from docker import auth, errors

            if not os.path.isfile(self._config_path):
                self._config = auth.AuthConfig({})
            else:
                try:
                    self._config = auth.load_config(config_path=self._config_path)
                except (errors.DockerException, ValueError) as exc:
                    # A bad base64 'auth' value or a non-object entry; say where, never what.
                    raise DigestError(
                        f"reading {self._config_path}: invalid 'auths' entry ({type(exc).__name__})"
                    ) from None
        return self._config

    def _resolve(self, registry: str) -> Credential:
        from docker import auth

        cfg = self._auth_config()
        assert isinstance(cfg, auth.AuthConfig)
        key = config_key(registry)
        helper = cfg.cred_helpers.get(key) or cfg.creds_store
        if helper:
            found = self._from_helper(str(helper), key, registry)
            if found is not None:
                return found
        # Auths only: an AuthConfig without stores so resolve_authconfig never runs a helper.
        plain = auth.AuthConfig({"auths": cfg.auths})
        sdk_name = "docker.io" if key == DOCKER_HUB_KEY else registry
        entry = plain.resolve_authconfig(sdk_name)
        if not entry:
            return Credential()
        source = f"'auths' in {self._config_path}"
        if entry.get("IdentityToken"):
            return Credential(identity_token=str(entry["IdentityToken"]), source=source)
        user = str(entry.get("username") or "")
        password = str(entry.get("password") or "")
        if not user and not password:
            return Credential()
        return Credential(username=user, password=password, source=source)

    def _from_helper(self, helper: str, key: str, registry: str) -> Credential | None:
        """Run ``docker-credential-<helper> get``; None when it holds nothing for ``key``."""
        program = f"docker-credential-{helper}"
        exe = proc.which(program, self._env.get("PATH", os.environ.get("PATH", "")))
        if exe is None:
            self.notes[registry] = f"credential helper {program} not found on PATH"
            return None
        done = proc.run([exe, "get"], env=self._env, stdin=key.encode(), timeout=30.0, check=False)
        if done.returncode != 0:
            first = done.stdout.decode("utf-8", "replace").strip().splitlines()[:1]
            if not first or "credentials not found" not in first[0].lower():
                self.notes[registry] = f"credential helper {program} failed: exit status" + (
                    f" {done.returncode}"
                )
            return None
        try:
            data = json.loads(done.stdout.decode("utf-8"))
            user = str(data.get("Username") or "")
            secret = str(data.get("Secret") or "")
        except (ValueError, AttributeError):
            self.notes[registry] = f"credential helper {program} printed no valid JSON"
            return None
        if not user and not secret:
            return None
        source = f"credential helper {program}"
        if user == TOKEN_USERNAME:
            return Credential(identity_token=secret, source=source)
        return Credential(username=user, password=secret, source=source)
