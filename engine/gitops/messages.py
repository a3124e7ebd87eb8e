"""The commit messages skrender publishes with: a subject naming the service and
environment, the source commit, the CI build and the images, and ``Skrender-*`` trailers
that tools can parse.  URLs with credentials (a CI build URL) are redacted."""

from __future__ import annotations

import re
from collections.abc import Mapping

from engine.gitops.remote import redact

# CI systems and the variables that give the build URL and the source commit.
_CI_BUILD_URL = (
    ("GITHUB_RUN_ID", None),  # composed from GITHUB_SERVER_URL/GITHUB_REPOSITORY below
    ("CI_JOB_URL", "CI_JOB_URL"),  # GitLab CI
    ("CI_PIPELINE_URL", "CI_PIPELINE_URL"),  # GitLab CI, when the job URL is missing
    ("BUILD_URL", "BUILD_URL"),  # Jenkins
    ("BUILDKITE_BUILD_URL", "BUILDKITE_BUILD_URL"),  # Buildkite
)
_CI_SOURCE_COMMIT = ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "BUILDKITE_COMMIT")


def commit_message(message: str | None, context: Mapping[str, str], env: Mapping[str, str]) -> str:
    """The commit message: the default one, or ``message`` followed by the trailers."""
    if message is None:
        return default_message(context, env)
    text = message.rstrip("\n")
    trailers = [t for t in _trailers(context, env) if t not in text]
    if trailers:
        text += "\n\n" + "\n".join(trailers)
    return redact(text) + "\n"


def default_message(context: Mapping[str, str], env: Mapping[str, str]) -> str:
    """The default commit message: subject, source, images, CI build URL and trailers.

    ``context`` keys: ``service``, ``environment``, ``images`` (separated by whitespace or
    commas), ``source_commit``; the source commit and build URL fall back to the CI variables
    of GitHub Actions, GitLab CI, Jenkins and Buildkite found in ``env``.
    """
    service = context.get("service", "").strip()
    environment = context.get("environment", "").strip()
    images = _split_images(context.get("images", ""))
    source = _source_commit(context, env)
    build_url = ci_build_url(env)
    about = []
    if source:
        about.append(f"Rendered from commit {source}.")
    if build_url:
        about.append(f"Build: {build_url}")
    paragraphs = [_subject(service, environment), "\n".join(about)]
    if images:
        paragraphs.append("\n".join(["Images:", *(f"- {image}" for image in images)]))
    paragraphs.append("\n".join(_trailers(context, env)))
    text = "\n\n".join(p for p in paragraphs if p)
    return redact(text) + "\n"


def ci_build_url(env: Mapping[str, str]) -> str | None:
    """The URL of the running CI build, from the first CI system whose variables are set."""
    for name, source in _CI_BUILD_URL:
        if not env.get(name):
            continue
        if source is None:
            server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
            repository = env.get("GITHUB_REPOSITORY")
            if not repository:
                continue
            return redact(f"{server}/{repository}/actions/runs/{env[name]}")
        return redact(env[source])
    return None


def _trailers(context: Mapping[str, str], env: Mapping[str, str]) -> list[str]:
    """``Skrender-*`` trailers for the facts that are known."""
    facts = (
        ("Skrender-Source-Commit", _source_commit(context, env)),
        ("Skrender-Service", context.get("service", "").strip()),
        ("Skrender-Environment", context.get("environment", "").strip()),
        ("Skrender-Build-URL", ci_build_url(env) or ""),
    )
    lines = [f"{key}: {value}" for key, value in facts if value]
    lines += [f"Skrender-Image: {image}" for image in _split_images(context.get("images", ""))]
    return lines


def _subject(service: str, environment: str) -> str:
    if service and environment:
        return f"Publish {service} to {environment}"
    if service or environment:
        return f"Publish {service or environment}"
    return "Publish rendered manifests"


def _source_commit(context: Mapping[str, str], env: Mapping[str, str]) -> str:
    given = context.get("source_commit", "").strip()
    if given:
        return given
    return next((env[name].strip() for name in _CI_SOURCE_COMMIT if env.get(name)), "")


def _split_images(images: str) -> list[str]:
    seen: dict[str, None] = {}
    for image in re.split(r"[\s,]+", images):
        if image:
            seen.setdefault(image, None)
    return list(seen)
