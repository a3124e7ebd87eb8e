"""Image reference parsing, default repo and -i/-a parsing (vectors from spec §5, §6.4 and
skaffold's reference_test.go / default_repo_test.go / image_test.go)."""

from __future__ import annotations

import pytest

from engine.core.errors import DigestError, ManifestError, UsageError
from engine.stages.naming import (
    RegistryName,
    apply_default_repo,
    is_valid_reference,
    parse_build_artifacts,
    parse_images_flag,
    parse_reference,
    registry_name,
    sanitize_image_name,
)

DIGEST = "sha256:81daf011d63b68cfa514ddab7741a1adddd59d3264118dfb0fd9266328bb8883"


@pytest.mark.parametrize(
    ("image", "base", "tag", "digest"),
    [
        ("host:1234/user/container:tag", "host:1234/user/container", "tag", ""),
        ("host:1234/user/container", "host:1234/user/container", "", ""),
        ("host/user/container:latest", "host/user/container", "latest", ""),
        (f"gcr.io/k8s-skaffold/example@{DIGEST}", "gcr.io/k8s-skaffold/example", "", DIGEST),
        (f"gcr.io/k8s-skaffold/example:v1@{DIGEST}", "gcr.io/k8s-skaffold/example", "v1", DIGEST),
        ("nginx:latest", "nginx", "latest", ""),
        ("ko://host/user/container", "host/user/container", "", ""),
        (
            "ko://github.com/GoogleContainerTools/skaffold",
            "github.com/googlecontainertools/skaffold",
            "",
            "",
        ),
        ("gcr.io/k8s-skaffold/Example:Tag", "gcr.io/k8s-skaffold/example", "Tag", ""),
        (
            f"us-central1-docker.pkg.dev/k8s-skaffold/Example:Tag@{DIGEST}",
            "us-central1-docker.pkg.dev/k8s-skaffold/example",
            "Tag",
            DIGEST,
        ),
        ("APP:7", "app", "7", ""),
        ("docker.io/library/app", "docker.io/library/app", "", ""),
    ],
)
def test_parse_reference(image: str, base: str, tag: str, digest: str) -> None:
    parsed = parse_reference(image)
    assert (parsed.base_name, parsed.tag, parsed.digest) == (base, tag, digest)


def test_parse_reference_fields_are_not_normalised() -> None:
    ref = parse_reference("app/app:app")
    assert (ref.domain, ref.repo, ref.name) == ("app", "app", "app")
    ref = parse_reference("localhost:5000/a_b/c.d")
    assert (ref.domain, ref.repo, ref.name) == ("localhost:5000", "localhost:5000/a_b", "c.d")
    ref = parse_reference("nginx")
    assert (ref.domain, ref.repo, ref.name) == ("", "", "")


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("!!invalid!!", "invalid reference format"),
        ("app:", "invalid reference format"),
        (" app", "invalid reference format"),
        ("app\n", "invalid reference format"),
        ("", "repository name must have at least one component"),
        ("a@sha256:" + "0" * 63, "invalid checksum digest length"),
        ("a@md5:" + "0" * 32, "unsupported digest algorithm"),
        ("a/" + "b" * 300, "repository name must not be more than 255 characters"),
    ],
)
def test_parse_reference_errors(image: str, reason: str) -> None:
    assert not is_valid_reference(image)
    with pytest.raises(ManifestError) as info:
        parse_reference(image)
    assert str(info.value) == f"{image}: {reason}"


def test_sanitize_keeps_tag_case_and_strips_ko() -> None:
    assert sanitize_image_name("ko://Gcr.IO/Proj/App:TaG") == "gcr.io/proj/app:TaG"
    assert sanitize_image_name("not valid!") == "not valid!"


def test_adversarial_input_is_fast() -> None:
    for text in ("a-" * 20000 + "!", "a." * 20000 + "!", "a" * 20000 + "/!"):
        assert not is_valid_reference(text)


IMAGES = [
    "app",
    "gcr.io/myproject/svc",
    "docker.io/library/nginx-x",
    "ko://github.com/Org/Repo/cmd/App",
    "localhost:5000/a_b/c.d",
]


@pytest.mark.parametrize(
    ("repo", "expected"),
    [
        (None, ["app", "gcr.io/myproject/svc", "docker.io/library/nginx-x",
                "ko://github.com/Org/Repo/cmd/App", "localhost:5000/a_b/c.d"]),
        ("gcr.io/other-project", [
            "gcr.io/other-project/app", "gcr.io/other-project/gcr.io/myproject/svc",
            "gcr.io/other-project/docker.io/library/nginx-x",
            "gcr.io/other-project/github.com/org/repo/cmd/app",
            "gcr.io/other-project/localhost:5000/a_b/c.d"]),
        ("gcr.io/myproject/sub", [
            "gcr.io/myproject/sub/app", "gcr.io/myproject/sub/svc",
            "gcr.io/myproject/sub/docker.io/library/nginx-x",
            "gcr.io/myproject/sub/github.com/org/repo/cmd/app",
            "gcr.io/myproject/sub/localhost:5000/a_b/c.d"]),
        ("aws.dkr.ecr/acct", [
            "aws.dkr.ecr/acct/app", "aws.dkr.ecr/acct/gcr_io_myproject_svc",
            "aws.dkr.ecr/acct/docker_io_library_nginx-x",
            "aws.dkr.ecr/acct/github_com_org_repo_cmd_app",
            "aws.dkr.ecr/acct/localhost_5000_a_b_c_d"]),
        ("gcr.io/myproj", [
            "gcr.io/myproj/app", "gcr.io/myproject/svc",
            "gcr.io/myproj/docker.io/library/nginx-x",
            "gcr.io/myproj/github.com/org/repo/cmd/app",
            "gcr.io/myproj/localhost:5000/a_b/c.d"]),
    ],
)  # fmt: skip
def test_default_repo_spec_table(repo: str | None, expected: list[str]) -> None:
    assert [apply_default_repo(i + ":v1", repo) for i in IMAGES] == [e + ":v1" for e in expected]


LONG = (
    "gcr.io/herewehaveanincrediblylongregistryname/herewealsohaveanabnormallylongimagename/"
    "doubtyouveseenanimagethislong/butyouneverknowdoyouimeanpeopledosomecrazystuffoutthere/"
    "goodluckpushingthistoanyregistrymyfriend"
)


@pytest.mark.parametrize(
    ("image", "repo", "multi", "expected"),
    [
        ("gcr.io/some/registry", "gcr.io/default", None, "gcr.io/default/gcr.io/some/registry"),
        ("gcr.io/some/registry", "gcr.io/default", False, "gcr.io/default/gcr.io/some/registry"),
        ("github.com/org/app", "us-central1-docker.pkg.dev/default", False,
         "us-central1-docker.pkg.dev/default/github.com/org/app"),
        ("gcr.io/some/registry", "", None, "gcr.io/some/registry"),
        ("gcr.io/default/registry", "gcr.io/default", None, "gcr.io/default/registry"),
        ("eu.gcr.io/project/registry", "eu.gcr.io/project", None, "eu.gcr.io/project/registry"),
        ("gcr.io/default/example/registry", "gcr.io/default/repository", None,
         "gcr.io/default/repository/example/registry"),
        ("gcr.io/some/registry", "aws_account_id.dkr.ecr.region.amazonaws.com", None,
         "aws_account_id.dkr.ecr.region.amazonaws.com/gcr_io_some_registry"),
        ("gcr.io/some/registry", "aws_account_id.dkr.ecr.region.amazonaws.com", True,
         "aws_account_id.dkr.ecr.region.amazonaws.com/gcr.io/some/registry"),
        (LONG, "aws_account_id.dkr.ecr.region.amazonaws.com", None,
         ("aws_account_id.dkr.ecr.region.amazonaws.com/"
          + LONG.replace("/", "_").replace(".", "_"))[:255]),
        ("myrepo/skaffold-example", "myrepo", None, "myrepo/skaffold-example"),
        ("ko://example.com/cmd/app", "gcr.io/default", None, "gcr.io/default/example.com/cmd/app"),
        ("ko://example.com/cmd/app", "myrepo", None, "myrepo/example_com_cmd_app"),
        ("ko://example.com/cmd/app", "myrepo", True, "myrepo/example.com/cmd/app"),
        ("img:tag", "gcr.io/default", None, "gcr.io/default/img:tag"),
        (f"img@{DIGEST}", "gcr.io/default", None, f"gcr.io/default/img@{DIGEST}"),
        (f"img:tag@{DIGEST}", "gcr.io/default", None, f"gcr.io/default/img:tag@{DIGEST}"),
        ("team/foo:1", "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com", None,
         "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/team_foo:1"),
    ],
)  # fmt: skip
def test_default_repo_vectors(image: str, repo: str, multi: bool | None, expected: str) -> None:
    result = apply_default_repo(image, repo, multi_level=multi)
    assert result == expected
    assert len(result.split(":")[0]) <= 255 or ":" in expected


def test_default_repo_invalid_image() -> None:
    with pytest.raises(ManifestError, match=r"^invalid reference format$"):
        apply_default_repo("!!invalid!!", "gcr.io/default")


@pytest.mark.parametrize(
    ("image", "registry", "repository", "reference"),
    [
        ("nginx", "index.docker.io", "library/nginx", "latest"),
        ("docker.io/foo:1", "index.docker.io", "library/foo", "1"),
        ("team/app:v1", "index.docker.io", "team/app", "v1"),
        ("localhost:5000/app:v1", "localhost:5000", "app", "v1"),
        ("127.0.0.1:5555/a/b", "127.0.0.1:5555", "a/b", "latest"),
        (f"gcr.io/x/svc:v1@{DIGEST}", "gcr.io", "x/svc", DIGEST),
        (f"app@{DIGEST}", "index.docker.io", "library/app", DIGEST),
    ],
)
def test_registry_name(image: str, registry: str, repository: str, reference: str) -> None:
    assert registry_name(image) == RegistryName(registry, repository, reference)


@pytest.mark.parametrize("image", ["app:", "UPPER/case", "a", "x@sha256:abc", "a/b:bad tag"])
def test_registry_name_errors(image: str) -> None:
    with pytest.raises(DigestError):
        registry_name(image)


def test_images_flag() -> None:
    assert parse_images_flag("APP:7") == ("app", "APP:7")
    assert parse_images_flag("foo=gcr.io/x/foo:pinned") == ("foo", "gcr.io/x/foo:pinned")
    assert parse_images_flag("Foo=x") == ("Foo", "x")
    assert parse_images_flag("ko://x/Y") == ("x/y", "ko://x/Y")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("app=Bad Tag", "app=Bad Tag: invalid reference format"),
        ("", ": cannot add an empty image value"),
        ("app=", "app=: repository name must have at least one component"),
        ("bad image", "bad image: invalid reference format"),
    ],
)
def test_images_flag_errors(value: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_images_flag(value)
    assert str(info.value) == f'invalid argument "{value}" for "-i, --images" flag: {message}'
    assert info.value.exit_code == 127


def test_images_flag_quotes_whole_flag_value() -> None:
    with pytest.raises(UsageError, match=r'^invalid argument "a,b c" for .*: b c: invalid'):
        parse_images_flag("b c", flag_value="a,b c")


def test_build_artifacts_go_json_rules() -> None:
    text = (
        '{"BUILDS": [{"imagename": "a", "Tag": "a:1", "tag": "a:2", "runtimeType": "go",'
        ' "extra": [1]}, {"imageName": "b", "tag": null}, null]}'
    )
    assert parse_build_artifacts(text, "b.json") == [("a", "a:2"), ("b", ""), ("", "")]
    assert parse_build_artifacts("null", "b.json") == []
    assert parse_build_artifacts('{"other": 1}', "b.json") == []


@pytest.mark.parametrize(
    "text", ["", "{", "[]", '{"builds": {}}', '{"builds": [{"tag": 5}]}', "NaN", "{} x"]
)
def test_build_artifacts_errors(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_build_artifacts(text, "b.json")
    assert str(info.value).startswith(
        'invalid argument "b.json" for "-a, --build-artifacts" flag: setting template flag: '
    )
