"""Render hooks (``manifests.hooks.before`` / ``after``): real commands in temporary trees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.stages import hooks

ROOT = Path(__file__).resolve().parents[2]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels:\n    tier: {tier}\n"
NOTICE = (
    "--digest-source set to 'none', tags listed in Kubernetes manifests will be used for render\n"
)


def _config(hooks_yaml: str, *, name: str = "", manifests: str = "k8s/a.yaml") -> str:
    metadata = f"metadata:\n  name: {name}\n" if name else ""
    return (
        f"apiVersion: skaffold/v4beta14\nkind: Config\n{metadata}"
        f"manifests:\n  rawYaml: [{manifests}]\n  hooks:\n{hooks_yaml}"
    )


def _tree(tmp_path: Path, hooks_yaml: str) -> Path:
    tree = tmp_path / "tree"
    (tree / "k8s").mkdir(parents=True)
    (tree / "k8s" / "a.yaml").write_text(CM.format(name="a", tier="web"))
    (tree / "skaffold.yaml").write_text(_config(hooks_yaml))
    return tree


def _render(
    tree: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    environ = {"PATH": os.environ["PATH"], "HOME": str(tree.parent), "PYTHONPATH": str(ROOT)}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "engine", "render", "--digest-source=none", *args],
        cwd=tree, env=environ, capture_output=True, check=False,
    )  # fmt: skip


PRE = """\
    before:
      - host:
          command: [sh, -c, 'echo PRE-OUT; echo PRE-ERR >&2; echo PRE-OUT2']
"""
RENDERED_A = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    tier: web\n  name: a\n"


def test_pre_hook_output_goes_to_stdout_before_the_manifests(tmp_path: Path) -> None:
    done = _render(_tree(tmp_path, PRE))
    assert done.returncode == 0, done.stderr
    # stdout and stderr of the hook share one pipe: written order kept (hooks/host.go)
    assert done.stdout.decode() == NOTICE + "PRE-OUT\nPRE-ERR\nPRE-OUT2\n" + RENDERED_A
    err = done.stderr.decode()
    assert "Starting pre-render hooks...\nCompleted pre-render hooks...\n" in err


def test_pre_hook_output_stays_on_stdout_with_output_file(tmp_path: Path) -> None:
    tree = _tree(tmp_path, PRE)
    done = _render(tree, "-o", "out.yaml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == NOTICE + "PRE-OUT\nPRE-ERR\nPRE-OUT2\n"
    assert (tree / "out.yaml").read_text() == RENDERED_A


def test_pre_hooks_of_all_configs_run_before_any_renderer(tmp_path: Path) -> None:
    """A dependency's pre-hook (dir rebased on its file) rewrites the root's manifest."""
    tree = tmp_path / "tree"
    (tree / "lib" / "k8s").mkdir(parents=True)
    (tree / "lib" / "gen.yaml").write_text(CM.format(name="placeholder", tier="x"))
    (tree / "lib" / "k8s" / "l.yaml").write_text(CM.format(name="lib", tier="db"))
    lib_hooks = (
        "    before:\n      - host:\n          command: [sh, -c, 'pwd;"
        ' printf "%s" "$0" > ../gen.yaml\', "apiVersion: v1\\nkind: ConfigMap\\n'
        'metadata:\\n  name: generated"]\n          dir: k8s\n'
    )
    (tree / "lib" / "skaffold.yaml").write_text(
        _config(lib_hooks, name="lib", manifests="k8s/l.yaml")
    )
    root_hooks = "    before:\n      - host:\n          command: [echo, root-pre]\n"
    (tree / "skaffold.yaml").write_text(
        _config(root_hooks, name="app", manifests="lib/gen.yaml").replace(
            "manifests:", "requires:\n  - path: lib\nmanifests:"
        )
    )
    done = _render(tree)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    # the lib hook ran in lib/k8s (relative to its own file), before the root's hook
    assert lines[1] == str(tree / "lib" / "k8s")
    assert lines[2] == "root-pre"
    assert done.stdout.decode().endswith(
        "  name: lib\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: generated\n"
    )


def test_root_hook_dir_is_relative_to_the_working_directory(tmp_path: Path) -> None:
    tree = _tree(
        tmp_path, "    before:\n      - host:\n          command: [pwd]\n          dir: k8s\n"
    )
    done = _render(tree)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[1] == str(tree / "k8s")


def test_post_hook_with_change_replaces_the_documents_verbatim(tmp_path: Path) -> None:
    # sed changes a label; printf adds a CRLF line and a comment: no normalisation follows,
    # only manifest.Load's re-split (CRLF -> LF, trimmed documents)
    after = """\
    after:
      - host:
          command: [sed, 's/tier: web/tier: "changed"  # c/']
          withChange: true
      - host:
          command: [sh, -c, 'cat; printf "\\n---\\r\\nkind: Extra\\r\\nz: 1\\n\\n"']
          withChange: true
"""
    done = _render(_tree(tmp_path, after))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == NOTICE + (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n"
        '    tier: "changed"  # c\n  name: a\n---\nkind: Extra\nz: 1\n'
    )
    assert "Starting post-render hooks...\n" in done.stderr.decode()
    assert "Completed post-render hooks\n" in done.stderr.decode()


def test_post_hook_gets_the_configs_documents_on_stdin(tmp_path: Path) -> None:
    tree = _tree(
        tmp_path, "    after:\n      - host:\n          command: [sh, -c, 'cat > ../in.txt']\n"
    )
    (tree / "k8s" / "b.yaml").write_text(CM.format(name="b", tier="x"))
    (tree / "skaffold.yaml").write_text(
        (tree / "skaffold.yaml").read_text().replace("k8s/a.yaml", "k8s/*.yaml")
    )
    done = _render(tree)
    assert done.returncode == 0, done.stderr
    documents = RENDERED_A + "---\n" + RENDERED_A.replace("web", "x").replace("name: a", "name: b")
    # joined by "\n---\n", no trailing newline; the output is unchanged
    assert (tmp_path / "in.txt").read_text() == documents.rstrip("\n")
    assert done.stdout.decode() == NOTICE + documents


def test_post_hook_without_change_logs_to_stderr(tmp_path: Path) -> None:
    after = "    after:\n      - host:\n          command: [sh, -c, 'echo OUT; echo ERR >&2']\n"
    done = _render(_tree(tmp_path, after))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == NOTICE + RENDERED_A
    assert "Starting post-render hooks...\nOUT\nERR\nCompleted post-render hooks\n" in (
        done.stderr.decode()
    )


def test_post_hook_with_change_must_print_something(tmp_path: Path) -> None:
    after = "    after:\n      - host:\n          command: ['true']\n          withChange: true\n"
    done = _render(_tree(tmp_path, after))
    assert done.returncode == 1
    assert done.stderr.decode().splitlines()[-1].startswith(hooks.EMPTY_CHANGE)


def test_post_hook_output_with_a_bad_separator_fails_to_load(tmp_path: Path) -> None:
    after = (
        "    after:\n      - host:\n          command: [printf, 'a: 1\\n---x\\nb: 2\\n']\n"
        "          withChange: true\n"
    )
    done = _render(_tree(tmp_path, after))
    assert done.returncode == 1
    assert done.stderr.decode().splitlines()[-1].startswith("failed to load manifest")


def test_os_filter_skips_hooks_for_other_systems(tmp_path: Path) -> None:
    before = f"""\
    before:
      - host:
          command: [echo, other]
          os: [plan9, windows]
      - host:
          command: [echo, mine]
          os: [{hooks.go_os()}]
"""
    done = _render(_tree(tmp_path, before))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == NOTICE + "mine\n" + RENDERED_A


def test_hooks_get_skaffold_variables_and_the_environment_wins(tmp_path: Path) -> None:
    before = (
        "    before:\n      - host:\n          command: [sh, -c, "
        "'echo ${SKAFFOLD_DEFAULT_REPO-unset} $SKAFFOLD_WORK_DIR $SKAFFOLD_NAMESPACES "
        "[$SKAFFOLD_KUBE_CONTEXT] $SKAFFOLD_RPC_PORT$SKAFFOLD_MULTI_LEVEL_REPO $MINE']\n"
    )
    tree = _tree(tmp_path, before)
    done = _render(tree, "-n", "ns1", env={"MINE": "x"})
    assert done.stdout.decode().splitlines()[1] == f"unset {tree} ns1 [] x"
    done = _render(tree, "-n", "ns1", "-d", "gcr.io/p", env={"SKAFFOLD_NAMESPACES": "mine"})
    # env.go's variables come first, os.Environ() after: the process environment wins
    assert done.stdout.decode().splitlines()[1] == f"gcr.io/p {tree} mine []"


def test_namespace_falls_back_to_deploy_kubectl_default_namespace(tmp_path: Path) -> None:
    tree = _tree(
        tmp_path, "    before:\n      - host:\n          command: [printenv, SKAFFOLD_NAMESPACES]\n"
    )
    text = (tree / "skaffold.yaml").read_text()
    (tree / "skaffold.yaml").write_text(
        text + "deploy:\n  kubectl:\n    defaultNamespace: 'ns-{{.TEAM}}'\n"
    )
    done = _render(tree, env={"TEAM": "blue"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[1] == "ns-blue"


@pytest.mark.parametrize("phase", ["before", "after"])
def test_failing_hook_fails_with_its_exit_status(tmp_path: Path, phase: str) -> None:
    hook = f"    {phase}:\n      - host:\n          command: [sh, -c, 'echo partial; exit 3']\n"
    done = _render(_tree(tmp_path, hook), "-o", "out.yaml")
    assert done.returncode == 3
    err = done.stderr.decode()
    assert err.splitlines()[-1].startswith(f"exit status 3 (manifests.hooks.{phase}[0] of ")
    assert not (tmp_path / "tree" / "out.yaml").exists()
    if phase == "before":  # streamed to stdout before the failure
        assert done.stdout.decode() == NOTICE + "partial\n"
    else:
        assert "partial\n" in err


def test_later_hooks_do_not_run_after_a_failure(tmp_path: Path) -> None:
    before = (
        "    before:\n      - host:\n          command: ['false']\n"
        "      - host:\n          command: [touch, ran]\n"
    )
    tree = _tree(tmp_path, before)
    assert _render(tree).returncode == 1
    assert not (tree / "ran").exists()


def test_missing_command_and_directory_read_like_skaffold(tmp_path: Path) -> None:
    tree = _tree(tmp_path, "    before:\n      - host:\n          command: [no-such-hook-cmd]\n")
    done = _render(tree)
    assert done.returncode == 1
    assert (
        done.stderr.decode()
        .splitlines()[-1]
        .startswith('starting cmd: exec: "no-such-hook-cmd": executable file not found in $PATH')
    )
    before = "    before:\n      - host:\n          command: ['true']\n          dir: nope\n"
    (tree / "skaffold.yaml").write_text(_config(before))
    done = _render(tree)
    assert (
        done.stderr.decode()
        .splitlines()[-1]
        .startswith("starting cmd: chdir nope: no such file or directory")
    )


def test_pre_hooks_run_after_tags_are_computed(tmp_path: Path, git_env: dict[str, str]) -> None:
    """skaffold's build phase comes first: a file the hook writes does not dirty the tag."""
    tree = _tree(tmp_path, "    before:\n      - host:\n          command: [touch, new.txt]\n")
    text = (tree / "skaffold.yaml").read_text()
    (tree / "skaffold.yaml").write_text(
        text.replace("manifests:", "build:\n  artifacts:\n    - image: app\nmanifests:")
    )
    for argv in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "c"]):
        subprocess.run(["git", *argv], cwd=tree, env=git_env, check=True)
    done = _render(tree, "--digest-source=tag", "--loud", env=git_env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines[0] == "Generating tags..."
    assert lines[1].startswith(" - app -> app:") and not lines[1].endswith("-dirty")
    assert (tree / "new.txt").exists()


def test_load_documents_follows_apimachinerys_yaml_reader() -> None:
    # a leading separator is content; "--- # c" separates; CRLF becomes LF; last line ended
    assert hooks.load_documents(b"---\na: 1\r\n--- # c\nb: 2") == [b"---\na: 1\n", b"b: 2\n"]
    assert hooks.load_documents(b"a: 1\n---\n---\n") == [b"a: 1\n", b"---\n"]
    assert hooks.load_documents(b"") == []
    assert hooks.load_documents(b"\n") == [b"\n"]
    assert hooks.load_documents(b"x: \r") == [b"x: \r\n"]
    with pytest.raises(hooks.HookError, match="failed to load manifest"):
        hooks.load_documents(b"a: 1\n----\n")


def test_join_documents_trims_each_document() -> None:
    assert hooks.join_documents([b"\n a: 1 \n\n", b"---\n", b"\xc2\xa0b\n"]) == (
        b"a: 1\n---\n---\n---\nb"
    )
