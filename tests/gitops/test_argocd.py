"""`skrender argocd`: service discovery, templates, DNS-safe names and the Argo CD documents."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import service_unavailable

from engine import yamlv3
from engine.cli import main
from engine.core.errors import ConfigError, UsageError
from engine.gitops import argocd
from engine.gitops.services import expand, find_services, service_name

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "monorepo"
REPO = "https://git.example.com/acme/manifests.git"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def touch(path: Path, text: str = "apiVersion: skaffold/v4beta14\nkind: Config\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A monorepo with services at several depths, and places that must not be searched."""
    root = tmp_path / "repo"
    for service in ("services/web", "services/api", "batch/jobs/Report_Gen", "."):
        touch(root / service / "skaffold.yaml")
    touch(root / ".git" / "hidden" / "skaffold.yaml")
    touch(root / "node_modules" / "dep" / "skaffold.yaml")
    touch(root / "services" / "docs" / "README.md")
    return root


def run_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, cwd: Path, *args: str
) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    code = main(["argocd", *args])
    out, err = capsys.readouterr()
    return code, out, err


# --- services -------------------------------------------------------------------------------


def test_find_services_walks_below_roots_in_name_order(tree: Path) -> None:
    found = find_services(["."], cwd=str(tree))
    assert [(s.name, s.relative) for s in found] == [
        ("Report_Gen", "batch/jobs/Report_Gen"),
        ("api", "services/api"),
        ("repo", "."),
        ("web", "services/web"),
    ]
    assert all(Path(s.config) == Path(s.directory) / "skaffold.yaml" for s in found)
    assert [s.name for s in find_services(["services", "batch"], cwd=str(tree))] == [
        "Report_Gen",
        "api",
        "web",
    ]


def test_find_services_other_config_name_and_overlapping_roots(tree: Path) -> None:
    touch(tree / "services" / "web" / "skaffold-prod.yaml")
    found = find_services(
        ["services", "services/web"], config_name="skaffold-prod.yaml", cwd=str(tree)
    )
    assert [s.name for s in found] == ["web"]  # found twice, listed once


def test_duplicate_service_names_are_an_error(tree: Path) -> None:
    touch(tree / "legacy" / "web" / "skaffold.yaml")
    with pytest.raises(
        ConfigError, match=r"two services are named 'web': legacy/web and services/web"
    ):
        find_services(["."], cwd=str(tree))


def test_a_missing_root_is_an_error(tree: Path) -> None:
    with pytest.raises(ConfigError, match="nowhere: not a directory"):
        find_services(["nowhere"], cwd=str(tree))


def test_service_name_is_the_directory_base_name(tmp_path: Path) -> None:
    assert service_name(str(tmp_path / "services" / "foo")) == "foo"
    assert service_name(str(tmp_path / "services" / "foo") + "/") == "foo"
    with pytest.raises(ConfigError):
        service_name("/")


def test_expand_placeholders_and_escapes() -> None:
    values = {"service": "foo", "environment": "prod"}
    assert expand("{service}/{environment}", values, flag="--x") == "foo/prod"
    assert expand("{{literal}}-{service}", values, flag="--x") == "{literal}-foo"
    assert expand("", values, flag="--x") == ""
    with pytest.raises(UsageError, match=r"--x '\{team\}': unknown placeholder \{team\}"):
        expand("{team}", values, flag="--x")
    with pytest.raises(UsageError, match="unbalanced brace"):
        expand("{service", values, flag="--x")
    # a brace in a value is data, not template syntax
    assert expand("{service}", {"service": "a{b}"}, flag="--x") == "a{b}"


# --- names, branches, paths -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("foo-production", "foo-production"),
        ("Report_Gen-develop", "report-gen-develop"),
        ("--a..b--", "a-b"),
        ("web.api/prod", "web-api-prod"),
    ],
)
def test_dns_name(raw: str, expected: str) -> None:
    assert argocd.dns_name(raw) == expected


def test_long_names_are_shortened_with_a_hash_and_stay_distinct() -> None:
    first = argocd.dns_name("a" * 70 + "-develop")
    second = argocd.dns_name("a" * 70 + "-production")
    assert first != second
    for name in (first, second):
        assert len(name) == 63 and DNS_LABEL.match(name)
    with pytest.raises(UsageError, match="no letter or digit"):
        argocd.dns_name("__")


@pytest.mark.parametrize(
    "branch", ["foo/..bar", "-x", "a b", "a:b", "x.lock", "x/", "a//b", "a/.b", "@", "a@{b", "a~1"]
)
def test_invalid_branches_are_rejected(branch: str) -> None:
    with pytest.raises(UsageError, match="not a valid branch name"):
        argocd.check_branch(branch)


def test_valid_branches_pass() -> None:
    for branch in ("foo/production", "env/eu-west-1", "release/v1.2"):
        assert argocd.check_branch(branch) == branch


def test_paths() -> None:
    assert argocd.clean_path("") == "."
    assert argocd.clean_path("./apps//foo/") == "apps/foo"
    with pytest.raises(UsageError, match="leaves the branch"):
        argocd.clean_path("apps/../../x")


def test_entries_whose_names_collide_are_an_error() -> None:
    options = argocd.Options(repo_url=REPO)
    with pytest.raises(UsageError, match="both make the Application name 'a-b-c'"):
        argocd.entries(["a-b", "a_b"], ["c"], options)


def test_public_url_drops_http_credentials_only() -> None:
    assert (
        argocd.public_url("https://user:tok@git.example.com/m.git")
        == "https://git.example.com/m.git"
    )
    assert argocd.public_url("HTTP://tok@h/m.git") == "HTTP://h/m.git"
    assert argocd.public_url("ssh://git@github.com/a/m.git") == "ssh://git@github.com/a/m.git"
    assert argocd.public_url("git@github.com:a/m.git") == "git@github.com:a/m.git"


# --- documents ------------------------------------------------------------------------------


def test_applications_for_every_service_and_environment(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(
        capsys,
        monkeypatch,
        tree,
        "services",
        "--repo",
        REPO,
        "--environments",
        "develop,production",
    )
    assert (code, err) == (0, "")
    docs = yamlv3.load_all(out)
    assert out.count("\n---\n") == 3 and out.endswith("\n") and not out.endswith("\n\n")
    assert [d["metadata"]["name"] for d in docs] == [
        "api-develop",
        "api-production",
        "web-develop",
        "web-production",
    ]
    assert docs[3] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web-production", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": REPO, "targetRevision": "web/production", "path": "."},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"},
        },
    }


def test_output_is_deterministic_and_sorted_like_yaml_v3(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_cli(capsys, monkeypatch, tree, "--repo", REPO)[1]
    second = run_cli(capsys, monkeypatch, tree, "--repo", REPO)[1]
    assert first == second
    head = first.split("\n---\n")[0]
    assert head == (
        "apiVersion: argoproj.io/v1alpha1\n"
        "kind: Application\n"
        "metadata:\n"
        "  name: report-gen-develop\n"
        "  namespace: argocd\n"
        "spec:\n"
        "  destination:\n"
        "    namespace: default\n"
        "    server: https://kubernetes.default.svc\n"
        "  project: default\n"
        "  source:\n"
        "    path: .\n"
        f"    repoURL: {REPO}\n"
        "    targetRevision: Report_Gen/develop"
    )
    # default environments: develop and production; 4 services
    assert len(yamlv3.load_all(first)) == 8


def test_sync_policy_destination_and_templates(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run_cli(
        capsys, monkeypatch, tree, "services/web", "--repo", REPO, "--environments", "prod",
        "--branch-template", "env/{environment}", "--path", "apps/{service}",
        "--name-template", "{environment}-{service}", "--project", "shop",
        "--namespace", "gitops", "--dest-server", "https://10.0.0.1:6443",
        "--dest-namespace", "{service}-{environment}", "--sync-policy", "automated",
        "--self-heal", "--sync-option", "CreateNamespace=true",
    )  # fmt: skip
    assert code == 0
    (doc,) = yamlv3.load_all(out)
    assert doc["metadata"] == {"name": "prod-web", "namespace": "gitops"}
    assert doc["spec"] == {
        "project": "shop",
        "source": {"repoURL": REPO, "targetRevision": "env/prod", "path": "apps/web"},
        "destination": {"server": "https://10.0.0.1:6443", "namespace": "web-prod"},
        "syncPolicy": {
            "automated": {"prune": False, "selfHeal": True},
            "syncOptions": ["CreateNamespace=true"],
        },
    }


def test_applicationset_with_a_list_generator(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run_cli(
        capsys, monkeypatch, tree, "services", "batch", "--repo", REPO, "--applicationset",
        "--environments", "develop", "--environments", "production,develop",
        "--sync-policy", "automated", "--auto-prune", "--appset-name", "Shop_Apps",
    )  # fmt: skip
    assert code == 0
    (doc,) = yamlv3.load_all(out)
    assert doc["apiVersion"] == "argoproj.io/v1alpha1" and doc["kind"] == "ApplicationSet"
    assert doc["metadata"] == {"name": "shop-apps", "namespace": "argocd"}
    spec = doc["spec"]
    assert spec["goTemplate"] is True and spec["goTemplateOptions"] == ["missingkey=error"]
    elements = spec["generators"][0]["list"]["elements"]
    assert [e["name"] for e in elements] == [
        "report-gen-develop",
        "report-gen-production",
        "api-develop",
        "api-production",
        "web-develop",
        "web-production",
    ]
    assert elements[0] == {
        "service": "Report_Gen",
        "environment": "develop",
        "name": "report-gen-develop",
        "branch": "Report_Gen/develop",
        "path": ".",
        "namespace": "default",
    }
    assert spec["template"] == {
        "metadata": {"name": "{{.name}}"},
        "spec": {
            "project": "default",
            "source": {"repoURL": REPO, "targetRevision": "{{.branch}}", "path": "{{.path}}"},
            "destination": {
                "server": "https://kubernetes.default.svc",
                "namespace": "{{.namespace}}",
            },
            "syncPolicy": {"automated": {"prune": True, "selfHeal": False}},
        },
    }
    # every key the template uses is present in every element
    used = set(re.findall(r"\{\{\.(\w+)\}\}", out))
    assert used and all(used <= set(e) for e in elements)


def test_names_and_namespaces_are_dns_labels(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out, _ = run_cli(
        capsys, monkeypatch, tree, "--repo", REPO, "--environments", "EU_Prod",
        "--dest-namespace", "{service}_{environment}",
    )  # fmt: skip
    for doc in yamlv3.load_all(out):
        assert DNS_LABEL.match(doc["metadata"]["name"])
        assert DNS_LABEL.match(doc["spec"]["destination"]["namespace"])


def test_credentials_never_reach_the_manifests(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(
        capsys, monkeypatch, tree, "--repo", "https://bot:s3cret-token@git.example.com/m.git"
    )
    assert code == 0 and "s3cret-token" not in out
    assert "repoURL: https://git.example.com/m.git" in out
    assert "credentials removed" in err


def test_output_file(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run_cli(capsys, monkeypatch, tree, "--repo", REPO, "-o", "apps.yaml")
    assert code == 0 and out == ""
    printed = run_cli(capsys, monkeypatch, tree, "--repo", REPO)[1]
    assert (tree / "apps.yaml").read_text() == printed


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--repo", REPO, "--auto-prune"], 127, "--auto-prune needs --sync-policy automated"),
        (["--repo", REPO, "--environments", ","], 127, "--environments is empty"),
        (["--repo", REPO, "--branch-template", "{team}"], 127, "unknown placeholder {team}"),
        (["--repo", REPO, "--branch-template", "{service}:{environment}"], 127, "valid branch"),
        (["services/docs", "--repo", REPO], 1, "no skaffold.yaml found below services/docs"),
        # cobra's "required flag(s)" error is not one skaffold maps to 127 (app/exitcode.go)
        (["--environments", "x"], 1, 'required flag(s) "repo" not set'),
    ],
)
def test_usage_errors(
    tree: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: int,
    message: str,
) -> None:
    got, out, err = run_cli(capsys, monkeypatch, tree, *args)
    assert got == code and out == ""
    assert message in err


# --- end to end with gitops -----------------------------------------------------------------


@pytest.mark.integration
def test_applications_point_at_what_gitops_published(
    tmp_path: Path, git_env: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    if shutil.which("kubectl") is None:  # the example's overlays are built by kubectl kustomize
        service_unavailable("kubectl (kustomize)")
    monorepo = tmp_path / "monorepo"
    shutil.copytree(EXAMPLE, monorepo)
    manifests = tmp_path / "manifests.git"
    env = {**git_env, "PYTHONPATH": str(ROOT)}
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "seed"]):
        subprocess.run(["git", *argv], cwd=monorepo, env=env, check=True)
    subprocess.run(["git", "init", "-q", "--bare", str(manifests)], env=env, check=True)
    templates = ["--branch-template", "env/{environment}", "--path", "{service}"]
    for profile in ([], ["-p", "production"]):
        subprocess.run(
            [sys.executable, "-m", "engine", "gitops", *profile, "--default-repo", "r.io/x",
             "--digest-source=tag", "--repo", str(manifests), *templates],
            cwd=monorepo / "services" / "foo", env=env, check=True, capture_output=True,
        )  # fmt: skip
    code, out, _ = run_cli(capsys, monkeypatch, monorepo, "--repo", REPO, *templates)
    assert code == 0
    for doc in yamlv3.load_all(out):
        source = doc["spec"]["source"]
        spec = f"{source['targetRevision']}:{source['path']}/manifest.yaml"
        shown = subprocess.run(
            ["git", "--git-dir", str(manifests), "show", spec],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert "kind: Deployment" in shown.stdout
