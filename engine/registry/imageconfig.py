"""A base image's configuration (``WorkingDir``, ``OnBuild``), found the way skaffold finds it.

skaffold's Docker dependency resolver reads each non-scratch ``FROM`` image's config
(``pkg/skaffold/docker/parse.go``: ``RetrieveImage``) through ``localDaemon.ConfigFile``
(``pkg/skaffold/docker/image.go``): the Docker engine's copy (``ImageInspectWithRaw``) when the
engine has the image, else the registry's (``RetrieveRemoteConfig`` in ``remote.go``:
go-containerregistry ``remote.Image`` without a platform, i.e. ``linux/amd64`` out of an index).
Results are cached per reference for the run, failures too.

:func:`lookup` returns the callable that :mod:`engine.pipeline` hands to the stages.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from engine.core.errors import DigestError, SkrenderError
from engine.registry import resolve
from engine.registry.credentials import Keychain
from engine.stages.naming import registry_name

ImageConfigFn = Callable[[str], Mapping[str, Any]]

# go-containerregistry remote.Image's platform when none is asked for.
DEFAULT_PLATFORM = ("linux", "amd64")
_INDEX_TYPES = (resolve.MT_OCI_INDEX, resolve.MT_DOCKER_LIST)
_IMAGE_TYPES = (resolve.MT_OCI_MANIFEST, resolve.MT_DOCKER_MANIFEST)
_MAX_CONFIG_BYTES = 4 << 20


class ImageConfigError(SkrenderError):
    """A base image's config cannot be read from the engine or the registry."""


def lookup(
    *,
    env: Mapping[str, str] | None = None,
    insecure_registries: Sequence[str] = (),
    timeout: float = 60.0,
) -> ImageConfigFn:
    """A cached ``reference -> config`` function (the image config's ``config`` object)."""
    return _Lookup(
        dict(os.environ if env is None else env), frozenset(insecure_registries), timeout
    )


def platforms_lookup(
    *, env: Mapping[str, str] | None = None, timeout: float = 60.0
) -> Callable[[str], list[tuple[str, str, str]]]:
    """A cached ``reference -> [(os, architecture, variant)]`` function from the registry.

    ``pkg/skaffold/docker/platform.go`` GetPlatforms: an index's platforms (``unknown`` ones
    left out), else the image config's os and architecture.  Insecure registries are not
    consulted there, as in skaffold.
    """
    found = _Lookup(dict(os.environ if env is None else env), frozenset(), timeout)
    return found.platforms


class _Lookup:
    def __init__(self, env: dict[str, str], insecure: frozenset[str], timeout: float) -> None:
        self._env = env
        self._insecure = insecure
        self._timeout = timeout
        self._lock = threading.Lock()
        self._cache: dict[str, Mapping[str, Any] | ImageConfigError] = {}
        self._platforms: dict[str, list[tuple[str, str, str]] | ImageConfigError] = {}
        self._engine: Any = None
        self._engine_failed = False
        self._keychain: Keychain | None = None

    def __call__(self, image: str) -> Mapping[str, Any]:
        config: Mapping[str, Any] = self._memo(self._cache, self._find, image)
        return config

    def platforms(self, image: str) -> list[tuple[str, str, str]]:
        return list(self._memo(self._platforms, self._find_platforms, image))

    def _memo(self, cache: dict[str, Any], find: Callable[[str], Any], image: str) -> Any:
        """``find(image)`` once per run; a failure is remembered and raised again."""
        with self._lock:
            cached = cache.get(image)
            if cached is None:
                try:
                    cached = find(image)
                except ImageConfigError as exc:
                    cached = exc
                cache[image] = cached
        if isinstance(cached, ImageConfigError):
            raise cached
        return cached

    def _find_platforms(self, image: str) -> list[tuple[str, str, str]]:
        try:
            name = registry_name(image)
        except DigestError as exc:
            raise ImageConfigError(str(exc)) from None
        with self._registry(name.registry) as client:
            return self._platforms_from(client, name.repository, name.reference, image)

    def _platforms_from(
        self, client: Any, repository: str, reference: str, image: str
    ) -> list[tuple[str, str, str]]:
        manifest, media_type = self._manifest(client, repository, reference, image)
        if media_type in _INDEX_TYPES:
            out = []
            for entry in manifest.get("manifests") or []:
                platform = entry.get("platform") if isinstance(entry, Mapping) else None
                if not isinstance(platform, Mapping):
                    continue
                os_name, arch = str(platform.get("os", "")), str(platform.get("architecture", ""))
                if "unknown" in (os_name, arch):
                    continue
                out.append((os_name, arch, str(platform.get("variant", ""))))
            return out
        if media_type not in _IMAGE_TYPES:
            raise ImageConfigError(f"image media type: {media_type}")
        document = self._config_blob(client, repository, manifest, image)
        return [(str(document.get("os", "")), str(document.get("architecture", "")), "")]

    def _find(self, image: str) -> Mapping[str, Any]:
        found = self._from_engine(image)
        if found is not None:
            return found
        return self._from_registry(image)

    # -- the Docker engine (image.go: ImageInspectWithRaw)

    def _from_engine(self, image: str) -> Mapping[str, Any] | None:
        """The engine's config of ``image``, or None when it has none (or there is no engine)."""
        client = self._engine_client()
        if client is None:
            return None
        try:
            inspected = client.inspect_image(image)
        except Exception:  # not there, or no engine answering: the registry decides
            return None
        # skaffold decodes the inspect JSON as a v1.ConfigFile; Go matches "Config" to "config".
        return _config_of(inspected)

    def _engine_client(self) -> Any:
        if self._engine is not None or self._engine_failed:
            return self._engine
        host = self._env.get("DOCKER_HOST", "")
        if not host and not os.path.exists(resolve.DEFAULT_DOCKER_SOCKET):
            self._engine_failed = True
            return None
        try:
            import docker

            wait = max(1, int(self._timeout))
            self._engine = docker.from_env(environment=self._env, timeout=wait).api
        except Exception:  # an unusable DOCKER_HOST: skaffold would fall through to the registry
            self._engine_failed = True
        return self._engine

    # -- the registry (remote.go: RetrieveRemoteConfig)

    def _from_registry(self, image: str) -> Mapping[str, Any]:
        try:
            name = registry_name(image)
        except DigestError as exc:
            raise ImageConfigError(str(exc)) from None
        with self._registry(name.registry) as client:
            return self._config_from(client, name.repository, name.reference, image)

    def _config_from(
        self, client: Any, repository: str, reference: str, image: str
    ) -> Mapping[str, Any]:
        manifest, media_type = self._manifest(client, repository, reference, image)
        if media_type in _INDEX_TYPES:
            child = _platform_child(manifest, image)
            manifest, media_type = self._manifest(client, repository, child, image)
        if media_type == resolve.MT_SCHEMA1_SIGNED:
            # parse.go isOldImageManifestProblem: skaffold ignores ONBUILD of such images.
            return {}
        if media_type not in _IMAGE_TYPES:
            raise ImageConfigError(
                f'retrieving image "{image}": unsupported MediaType: "{media_type}"'
            )
        return _config_of(self._config_blob(client, repository, manifest, image))

    def _config_blob(
        self, client: Any, repository: str, manifest: Mapping[str, Any], image: str
    ) -> Mapping[str, Any]:
        """The image config a manifest points to, checked against its digest."""
        config = manifest.get("config")
        digest = str(config.get("digest", "")) if isinstance(config, Mapping) else ""
        body = self._get(client, repository, f"blobs/{digest}", image)
        if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            raise ImageConfigError(
                f'retrieving image "{image}": config blob does not match {digest}'
            )
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise ImageConfigError(f'retrieving image "{image}": config: {exc}') from None
        return parsed if isinstance(parsed, Mapping) else {}

    @contextmanager
    def _registry(self, registry: str) -> Iterator[Any]:
        """A client for one look-up: its own deadline (a render may take longer than one), the
        run's keychain (helpers are asked once)."""
        if self._keychain is None:
            self._keychain = Keychain(self._env)
        deadline = time.monotonic() + max(self._timeout, 0.001)
        client = resolve.registry_client(
            registry, self._env, registry in self._insecure, deadline, self._keychain
        )
        try:
            yield client
        finally:
            client.close()

    def _manifest(
        self, client: Any, repository: str, reference: str, image: str
    ) -> tuple[Mapping[str, Any], str]:
        body, media_type = self._get_typed(client, repository, f"manifests/{reference}", image)
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise ImageConfigError(f'retrieving image "{image}": manifest: {exc}') from None
        if not isinstance(parsed, Mapping):
            raise ImageConfigError(f'retrieving image "{image}": manifest is not an object')
        return parsed, media_type or str(parsed.get("mediaType") or "")

    def _get(self, client: Any, repository: str, path: str, image: str) -> bytes:
        return self._get_typed(client, repository, path, image)[0]

    def _get_typed(self, client: Any, repository: str, path: str, image: str) -> tuple[bytes, str]:
        try:
            resp = client.get(repository, path)
        except SkrenderError as exc:
            raise ImageConfigError(f'retrieving image "{image}": {exc}') from None
        if resp.status_code != 200:
            raise ImageConfigError(
                f'retrieving image "{image}": GET {path.split("/")[0]}: HTTP {resp.status_code}'
            )
        body = resp.content[: _MAX_CONFIG_BYTES + 1]
        if len(body) > _MAX_CONFIG_BYTES:
            raise ImageConfigError(f'retrieving image "{image}": {path} is too large')
        media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
        return body, media_type


def _config_of(document: Any) -> Mapping[str, Any]:
    """The ``config`` object of an image config (keys matched case-insensitively, as Go does)."""
    if not isinstance(document, Mapping):
        return {}
    for key, value in document.items():
        if isinstance(key, str) and key.lower() == "config":
            return value if isinstance(value, Mapping) else {}
    return {}


def _platform_child(index: Mapping[str, Any], image: str) -> str:
    """The digest of the index's first ``linux/amd64`` manifest (remote.Image's default)."""
    for entry in index.get("manifests") or []:
        if not isinstance(entry, Mapping):
            continue
        platform = entry.get("platform")
        if not isinstance(platform, Mapping):
            continue
        if (platform.get("os"), platform.get("architecture")) == DEFAULT_PLATFORM:
            return str(entry.get("digest", ""))
    raise ImageConfigError(
        f'retrieving image "{image}": no child with platform linux/amd64 in index'
    )
