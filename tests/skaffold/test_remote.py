"""Remote configs (engine.skaffold.remote): ``requires[].git`` against real git servers,
``-f <URL>`` against a real loopback HTTP server, ``-f -`` from stdin.

Expectations come from skaffold's source and tests: ``pkg/skaffold/git/gitutil.go`` and
``gitutil_test.go`` (cache directory name ``iSEL5rQfK5EJ2yLhnW8tUgcVOvDC8Wjl`` for
``http://github.com/foo.git`` at ``master``; clone, fetch/reset, sync switches and their
errors), ``pkg/skaffold/config/remote_cache.go`` (default directory, flag values) and
``pkg/skaffold/parser/config.go`` (remote configs' paths, no rawYaml existence check).
Every test has a fresh HOME, so the default cache lives in that HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fixtures_git import GitServer, server_env

from engine.skaffold import remote

ROOT = Path(__file__).resolve().parent.parent.parent

REMOTE_CONFIG = """\
apiVersion: skaffold/v4beta14
kind: Config
metadata:
  name: shared
manifests:
  rawYaml: [k8s/*.yaml, missing/*.yaml]
"""
LOCAL_CONFIG = """\
apiVersion: skaffold/v4beta14
kind: Config
requires:
- git:
{git}
manifests:
  rawYaml: [local.yaml]
"""


def _cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def _publish(server: GitServer, name: str, work: Path, value: str, push_url: str = "") -> str:
    """Commit ``sub/skaffold.yaml`` + a ConfigMap named ``value`` and push it to ``main`` of
    the server's repo ``name`` (created on first use); returns the commit id."""
    env = {**server_env(work.parent), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    if not (server.root / name).exists():
        server.create(name)
        bare = str(server.root / name)  # its default branch is main, as on a real forge
        subprocess.run(["git", "--git-dir", bare, "symbolic-ref", "HEAD", "refs/heads/main"],
                       env=env, check=True)  # fmt: skip
    if not work.exists():
        work.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "-b", "main", str(work)], env=env, check=True)
    (work / "sub" / "k8s").mkdir(parents=True, exist_ok=True)
    (work / "sub" / "skaffold.yaml").write_text(REMOTE_CONFIG)
    (work / "sub" / "k8s" / "cm.yaml").write_text(_cm(value))
    for args in (["add", "-A"], ["commit", "-q", "-m", value]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True)
    subprocess.run(["git", "push", "-q", push_url or server.url + name, "main"],
                   cwd=work, env=env, check=True, capture_output=True)  # fmt: skip
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return head.stdout.strip()


def _project(tmp_path: Path, git: str) -> Path:
    tree = tmp_path / "project"
    tree.mkdir()
    (tree / "skaffold.yaml").write_text(LOCAL_CONFIG.format(git=git))
    (tree / "local.yaml").write_text(_cm("local"))
    return tree


def _skrender(
    tree: Path,
    *args: str,
    stdin: str | None = None,
    home: Path | None = None,
    PATH: str = "",
) -> subprocess.CompletedProcess[str]:
    home = home or tree.parent / "home"
    home.mkdir(exist_ok=True)
    environ = {
        "PATH": PATH or os.environ["PATH"],
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "engine", "render", "--offline=true", "--digest-source=tag", *args],
        cwd=tree, env=environ, input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip


def _names(text: str) -> list[str]:
    return [line.split(": ")[1] for line in text.splitlines() if line.startswith("  name: ")]


# --- the cache layout ---------------------------------------------------------------------


def test_cache_directory_name_matches_skaffold() -> None:
    # gitutil_test.go TestSyncRepo: every case expects this directory
    assert remote.repo_dir_name("http://github.com/foo.git", "master") == (
        "iSEL5rQfK5EJ2yLhnW8tUgcVOvDC8Wjl"
    )
    assert remote.repo_dir_name("http://github.com/foo.git", "") != (
        remote.repo_dir_name("http://github.com/foo.git", "master")
    )


def test_credentials_are_redacted() -> None:
    assert remote.redact("see https://bot:s3cret@h/x.git and git://tok@h/y") == (
        "see https://***@h/x.git and git://***@h/y"
    )
    assert remote.split_credentials("https://bot:s%40cret@h:8/x.git") == (
        "https://h:8/x.git",
        "bot",
        "s@cret",
    )


# --- requires[].git -------------------------------------------------------------------------


def test_git_requires_clone_into_the_remote_cache(tmp_path: Path, git_daemon: GitServer) -> None:
    _publish(git_daemon, "clone.git", tmp_path / "work", "v1")
    repo = git_daemon.url + "clone.git"
    tree = _project(tmp_path, f"    repo: {repo}\n    path: sub\n    ref: main")
    done = _skrender(tree)
    assert done.returncode == 0, done.stderr
    # the required config first; its missing/*.yaml is not checked (a remote config)
    assert _names(done.stdout) == ["v1", "local"]
    clone = tmp_path / "home" / ".skaffold" / "remote-cache" / remote.repo_dir_name(repo, "main")
    assert (clone / "sub" / "skaffold.yaml").read_text() == REMOTE_CONFIG


def test_git_requires_follow_the_sync_switches(tmp_path: Path, git_daemon: GitServer) -> None:
    work = tmp_path / "work"
    _publish(git_daemon, "sync.git", work, "v1")
    repo = git_daemon.url + "sync.git"
    tree = _project(tmp_path, f"    repo: {repo}\n    path: sub/skaffold.yaml")  # default ref
    assert _names(_skrender(tree).stdout) == ["v1", "local"]
    _publish(git_daemon, "sync.git", work, "v2")
    # missing / never: an existing clone is used as it is
    for policy in ("missing", "never"):
        done = _skrender(tree, f"--sync-remote-cache={policy}")
        assert _names(done.stdout) == ["v1", "local"], done.stderr
    # sync: false in the config wins over the default `always`
    (tree / "skaffold.yaml").write_text(
        LOCAL_CONFIG.format(git=f"    repo: {repo}\n    path: sub\n    sync: false")
    )
    assert _names(_skrender(tree).stdout) == ["v1", "local"]
    (tree / "skaffold.yaml").write_text(LOCAL_CONFIG.format(git=f"    repo: {repo}\n    path: sub"))
    done = _skrender(tree)  # always: fetched and reset to origin/main
    assert _names(done.stdout) == ["v2", "local"], done.stderr


def test_never_without_a_clone_is_skaffolds_error(tmp_path: Path, git_daemon: GitServer) -> None:
    _publish(git_daemon, "never.git", tmp_path / "work", "v1")
    repo = git_daemon.url + "never.git"
    tree = _project(tmp_path, f"    repo: {repo}\n    path: sub\n    ref: main")
    cache = tmp_path / "cache"
    done = _skrender(tree, "--sync-remote-cache", "never", "--remote-cache-dir", str(cache))
    assert done.returncode == 1
    directory = cache / remote.repo_dir_name(repo, "main")
    assert (
        f'caching remote dependency {repo}: cache directory "{directory}" for repository '
        f'"{repo}" at ref "main" does not exist, and repository sync is explicitly disabled via '
        "flag `--sync-remote-cache`"
    ) in done.stderr
    assert _skrender(tree, "--remote-cache-dir", str(cache)).returncode == 0
    assert directory.is_dir()


def test_ref_that_is_a_commit_is_checked_out(tmp_path: Path, git_daemon: GitServer) -> None:
    commit = _publish(git_daemon, "commit.git", tmp_path / "work", "v1")
    tree = _project(
        tmp_path, f"    repo: {git_daemon.url}commit.git\n    path: sub\n    ref: {commit}"
    )
    done = _skrender(tree)
    assert done.returncode == 0, done.stderr
    assert _names(done.stdout) == ["v1", "local"]


def test_unknown_repo_fails_naming_it(tmp_path: Path, git_daemon: GitServer) -> None:
    repo = git_daemon.url + "nothing-here.git"
    tree = _project(tmp_path, f"    repo: {repo}\n    ref: main")
    done = _skrender(tree, "-o", str(tmp_path / "out.yaml"))
    # the cmdError is wrapped with %w up to the exit code: skaffold exits with git's status
    assert done.returncode == 128
    assert f"caching remote dependency {repo}: failed to clone repo: running [" in done.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_bad_sync_remote_cache_value_is_a_usage_error(tmp_path: Path) -> None:
    tree = _project(tmp_path, "    repo: x")
    done = _skrender(tree, "--sync-remote-cache=sometimes")
    assert done.returncode == 127
    assert (
        'invalid argument "sometimes" for "--sync-remote-cache" flag: value must be one of '
        "`always`, `missing`, or `never`"
    ) in done.stderr


def test_git_credential_helper_is_used(tmp_path: Path, git_http: GitServer) -> None:
    _publish(git_http, "helper.git", tmp_path / "work", "v1", git_http.authed_url("helper.git"))
    home = tmp_path / "home"
    home.mkdir()
    # the user's own git setup: a credential store in their HOME
    (home / ".git-credentials").write_text(git_http.authed_url("") + "\n")
    (home / ".gitconfig").write_text("[credential]\n\thelper = store\n")
    tree = _project(tmp_path, f"    repo: {git_http.url}helper.git\n    path: sub\n    ref: main")
    done = _skrender(tree, home=home)
    assert done.returncode == 0, done.stderr
    assert _names(done.stdout) == ["v1", "local"]


def test_credentials_in_the_url_stay_out_of_argv_and_the_clone(
    tmp_path: Path, git_http: GitServer
) -> None:
    authed = git_http.authed_url("inurl.git")
    _publish(git_http, "inurl.git", tmp_path / "work", "v1", authed)
    tree = _project(tmp_path, f"    repo: {authed}\n    path: sub\n    ref: main")
    done = _skrender(tree)
    assert done.returncode == 0, done.stderr
    clone = tmp_path / "home" / ".skaffold" / "remote-cache" / remote.repo_dir_name(authed, "main")
    git_config = (clone / ".git" / "config").read_text()
    assert git_http.password not in git_config and f"{git_http.url}inurl.git" in git_config
    # every git command line skrender starts, recorded by a pass-through shim: no secret
    bin_dir, log = tmp_path / "bin", tmp_path / "git-argv.log"
    bin_dir.mkdir()
    real_git = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True)
    (bin_dir / "git").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {real_git.stdout.strip()} "$@"\n'
    )
    (bin_dir / "git").chmod(0o755)
    shutil.rmtree(clone)
    done = _skrender(tree, PATH=f"{bin_dir}:{os.environ['PATH']}")
    assert done.returncode == 0, done.stderr
    assert "clone" in log.read_text() and git_http.password not in log.read_text()
    # a wrong password: the error names the repo without the secret
    wrong = git_http.authed_url("inurl.git", password="wrong-secret")
    (tree / "skaffold.yaml").write_text(
        LOCAL_CONFIG.format(git=f"    repo: {wrong}\n    ref: main")
    )
    done = _skrender(tree)
    assert done.returncode == 128  # git's status
    assert "caching remote dependency" in done.stderr and "wrong-secret" not in done.stderr


# --- -f <URL> and -f - ------------------------------------------------------------------------


@pytest.fixture
def config_server() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A loopback HTTP server: GET /<name> answers files[name], anything else 404."""
    files: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", files
    finally:
        server.shutdown()
        server.server_close()


URL_CONFIG = """\
apiVersion: skaffold/v4beta14
kind: Config
requires:
- path: dep/skaffold.yaml
manifests:
  rawYaml: [local.yaml]
"""


def test_filename_url_is_downloaded_paths_stay_relative_to_cwd(
    tmp_path: Path, config_server: tuple[str, dict[str, bytes]]
) -> None:
    base, files = config_server
    files["skaffold.yaml"] = URL_CONFIG.encode()
    tree = tmp_path / "project"
    (tree / "dep").mkdir(parents=True)
    (tree / "local.yaml").write_text(_cm("local"))
    # parser/config.go makeConfigPathAbsolute: a URL config's requires are relative to CWD
    (tree / "dep" / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  rawYaml: [dep.yaml]\n"
    )
    (tree / "dep" / "dep.yaml").write_text(_cm("dep"))
    done = _skrender(tree, "-f", base + "skaffold.yaml")
    assert done.returncode == 0, done.stderr
    assert _names(done.stdout) == ["dep", "local"]


def test_filename_url_not_found_is_skaffolds_error(
    tmp_path: Path, config_server: tuple[str, dict[str, bytes]]
) -> None:
    base, _ = config_server
    tree = tmp_path / "project"
    tree.mkdir()
    done = _skrender(tree, "-f", base + "missing.yaml")
    assert done.returncode == 1
    assert (
        "error parsing skaffold configuration file: read skaffold config: "
        'http 404, error "404 Not Found"'
    ) in done.stderr


def test_filename_dash_reads_stdin(tmp_path: Path) -> None:
    tree = tmp_path / "project"
    tree.mkdir()
    (tree / "local.yaml").write_text(_cm("local"))
    config = "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  rawYaml: [local.yaml]\n"
    done = _skrender(tree, "-f", "-", stdin=config)
    assert done.returncode == 0, done.stderr
    assert _names(done.stdout) == ["local"]
    assert _skrender(tree, "-f", "-", stdin="").returncode == 1


def test_git_path_without_a_config_is_skaffolds_error(
    tmp_path: Path, git_daemon: GitServer
) -> None:
    _publish(git_daemon, "nocfg.git", tmp_path / "work", "v1")
    repo = git_daemon.url + "nocfg.git"
    tree = _project(tmp_path, f"    repo: {repo}\n    path: sub/k8s\n    ref: main")
    done = _skrender(tree)
    assert done.returncode == 1
    wanted = (
        (tmp_path / "home" / ".skaffold" / "remote-cache" / remote.repo_dir_name(repo, "main"))
        / "sub"
        / "k8s"
        / "skaffold.yaml"
    )
    # schema/errors.go MainConfigFileNotFoundErr, for a required config's file
    assert f'unable to find configuration file "{wanted}"' in done.stderr
