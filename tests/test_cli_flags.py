"""Issue 10 items 5 and 7: the command line is pflag's (and cobra's, as skaffold drives them),
every flag `skaffold render` takes is accepted, and `-v debug` says what skaffold's says.

The flag table below is skaffold v2.24.0's own, copied from its sources: the flagRegistry
entries of cmd/skaffold/app/cmd/flags.go whose DefinedOn holds "render" or "all", the three
render.go adds, and the root command's persistent flags (cmd.go), plus cobra's -h/--help.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.commands import _parser
from engine.commands import render as render_cmd
from engine.core import log
from engine.core.errors import SkrenderError, UsageError, said_once
from engine.golang import pflag

ROOT = Path(__file__).resolve().parent.parent

# skaffold v2.24.0 `skaffold render` flags: (name, shorthand, takes a value, hidden)
SKAFFOLD_RENDER_FLAGS = [
    # cmd/skaffold/app/cmd/flags.go, DefinedOn "all"
    ("filename", "f", True, False),
    ("module", "m", True, False),
    ("user", "u", True, True),
    ("remote-cache-dir", "", True, False),
    ("sync-remote-cache", "", True, False),
    ("assume-yes", "", False, False),
    # flags.go, DefinedOn "render"
    ("profile", "p", True, False),
    ("namespace", "n", True, False),
    ("default-repo", "d", True, False),
    ("cache-artifacts", "", False, False),
    ("enable-rpc", "", False, True),  # deprecated, hence hidden
    ("wait-for-connection", "", False, False),
    ("event-log-file", "", True, True),
    ("last-log-file", "", True, True),
    ("label", "l", True, False),
    ("tag", "t", True, False),
    ("platform", "", True, False),
    ("profile-auto-activation", "", False, False),
    ("propagate-profiles", "", False, False),
    ("build-artifacts", "a", True, False),
    ("images", "i", True, False),
    ("digest-source", "", True, False),
    ("hydration-dir", "", True, False),
    ("resource-selector-rules-file", "", True, False),
    ("enable-platform-node-affinity", "", False, False),
    ("enable-gke-arm-node-toleration", "", False, True),
    ("set", "", True, False),
    ("set-value-file", "", True, False),
    # render.go
    ("loud", "", False, False),
    ("offline", "", False, False),
    ("output", "o", True, False),
    # cmd.go: the root command's persistent flags
    ("verbosity", "v", True, False),
    ("color", "", True, False),
    ("force-colors", "", False, True),
    ("interactive", "", False, False),
    ("update-check", "", False, False),
    ("timestamps", "", False, False),
    # cobra
    ("help", "h", False, False),
]
# flags of other skaffold commands that `skaffold render` refuses (flags.go DefinedOn)
NOT_RENDER_FLAGS = ["rpc-port", "rpc-http-port", "kube-context", "kubeconfig", "config",
                    "insecure-registry", "push", "cache-file", "toot", "build-image"]  # fmt: skip
# a value each value-taking flag accepts without touching the network or a file
VALUES = {
    "filename": "skaffold.yaml",
    "sync-remote-cache": "missing",
    "digest-source": "tag",
    "platform": "linux/amd64",
    "images": "other=other:1",
    "build-artifacts": "",
    "resource-selector-rules-file": "",
    "set-value-file": "",
    "color": "0x22",
    "verbosity": "info",
    "default-repo": "reg.example",
    "output": "{out}",
    "label": "k=v",
    "module": "",  # no selection
    "profile": "",
    "tag": "",  # no custom tag
}

CONFIG = """\
apiVersion: skaffold/v4beta14
kind: Config
build:
  artifacts:
  - image: app
  tagPolicy:
    envTemplate:
      template: "{{.TAG_FROM_ENV}}"
manifests:
  rawYaml: [pod.yaml]
"""

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: app
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "skaffold.yaml").write_text(CONFIG)
    (tmp_path / "pod.yaml").write_text(POD)
    (tmp_path / "userhome").mkdir()
    return tmp_path


def skrender(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd / "userhome"),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def _render_flags() -> dict[str, pflag.Flag]:
    flags = (*render_cmd.command().flags, *_parser.GLOBAL_FLAGS, _parser.HELP)
    return {flag.name: flag for flag in flags}


def _parse(*argv: str) -> object:
    return _parser.parse(render_cmd.command(), argv)


# --- every skaffold render flag --------------------------------------------------------------


@pytest.mark.parametrize(("name", "shorthand", "takes_value", "hidden"), SKAFFOLD_RENDER_FLAGS)
def test_every_skaffold_render_flag_is_declared_as_skaffold_declares_it(
    name: str, shorthand: str, takes_value: bool, hidden: bool
) -> None:
    flag = _render_flags().get(name)
    assert flag is not None, f"--{name} is missing"
    assert flag.shorthand == shorthand
    assert (flag.no_opt_default == "") == takes_value
    assert (flag.hidden or bool(flag.deprecated)) == hidden


@pytest.mark.parametrize(("name", "shorthand", "takes_value", "hidden"), SKAFFOLD_RENDER_FLAGS)
def test_every_skaffold_render_flag_is_accepted(
    name: str, shorthand: str, takes_value: bool, hidden: bool
) -> None:
    del hidden
    value = VALUES.get(name, "x").replace("{out}", "out.yaml")
    spellings = [[f"--{name}={value}"], [f"--{name}", value]] if takes_value else [[f"--{name}"]]
    if not takes_value:
        spellings.append([f"--{name}=false"])
    if shorthand and takes_value:
        spellings += [[f"-{shorthand}", value], [f"-{shorthand}={value}"]]
        if value:
            spellings.append([f"-{shorthand}{value}"])
    elif shorthand:
        spellings.append([f"-{shorthand}"])
    for argv in spellings:
        args = _parse(*argv)
        assert args.args == []  # type: ignore[attr-defined]


def test_skrender_adds_only_its_own_flags_to_render() -> None:
    skaffold = {name for name, *_ in SKAFFOLD_RENDER_FLAGS}
    own = set(_render_flags()) - skaffold
    assert own == {"digest-resolver", "digest-jobs", "registry-timeout", "no-template-commands"}


@pytest.mark.parametrize("name", NOT_RENDER_FLAGS)
def test_flags_of_other_skaffold_commands_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match=f"^unknown flag: --{name}\n"):
        _parse(f"--{name}=1")


def test_a_render_with_every_flag_at_once(project: Path) -> None:
    argv = ["render"]
    for name, _shorthand, takes_value, _hidden in SKAFFOLD_RENDER_FLAGS:
        if name == "help":
            continue
        value = VALUES.get(name, "x").replace("{out}", str(project / "out.yaml"))
        argv.append(f"--{name}={value}" if takes_value else f"--{name}")
    argv += ["--offline=true"]
    done = skrender(project, *argv, TAG_FROM_ENV="v1")
    assert done.returncode == 0, done.stderr
    out = (project / "out.yaml").read_text()
    # -i names only "other": no tag policy runs and `app` keeps its manifest image
    assert "    - image: app\n" in out
    assert "k: v" in out  # the label
    # pflag prints a deprecated flag's notice
    assert "Flag --enable-rpc has been deprecated, flags --rpc-port" in done.stderr


# --- pflag's semantics ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv", [["--default", "x"], ["--prof", "p"], ["--off"], ["--digest", "tag"], ["--names=n"]]
)
def test_prefixes_never_abbreviate(argv: list[str]) -> None:
    with pytest.raises(UsageError, match="^" + re.escape("unknown flag: --")):
        _parse(*argv)


def test_argocd_dest_name_is_not_the_destination_namespace(project: Path) -> None:
    done = skrender(project, "argocd", "--repo", "https://g/x.git", "--dest-name", "in-cluster")
    assert done.returncode == 127
    assert done.stderr.startswith("unknown flag: --dest-name\nSee 'skrender argocd --help'")


def test_bool_flags_take_a_value_only_after_equals() -> None:
    assert _parse("--offline=false").offline is False  # type: ignore[attr-defined]
    assert _parse("--offline").offline is True  # type: ignore[attr-defined]
    assert _parse("--offline=0").offline is False  # type: ignore[attr-defined]
    with pytest.raises(
        UsageError, match="^" + re.escape('unknown command "false" for "skrender render"')
    ):
        _parse("--offline", "false")
    with pytest.raises(
        UsageError,
        match=re.escape(
            'invalid argument "yes" for "--offline" flag: strconv.ParseBool: '
            'parsing "yes": invalid syntax'
        ),
    ):
        _parse("--offline=yes")
    with pytest.raises(UsageError, match="^" + re.escape("unknown flag: --no-offline")):
        _parse("--no-offline")


def test_repeated_flags_append_slices_and_replace_scalars() -> None:
    args = _parse("-p", "a,b", "--profile", "c", "-pd", "-d", "x", "--default-repo=y")
    assert args.profile == ["a", "b", "c", "d"]  # type: ignore[attr-defined]
    assert args.default_repo == "y"  # type: ignore[attr-defined]


def test_values_starting_with_a_dash_and_shorthand_clusters() -> None:
    assert _parse("-p", "-x").profile == ["-x"]  # type: ignore[attr-defined]
    assert _parse("-p=-x").profile == ["-x"]  # type: ignore[attr-defined]
    assert _parse("-p=").profile == ["="]  # pflag: "-p=" is the value "="
    assert _parse("-vdebug").verbosity == "debug"  # type: ignore[attr-defined]
    assert _parse("-hv", "info").help is True  # type: ignore[attr-defined]
    with pytest.raises(UsageError, match=r"^unknown shorthand flag: 'z' in -z\n"):
        _parse("-hz")  # pflag names what is left of the cluster
    with pytest.raises(UsageError, match=r"^flag needs an argument: 'p' in -p\n"):
        _parse("-hp")
    with pytest.raises(UsageError, match=r"^flag needs an argument: 'p' in -p"):
        _parse("-p")
    with pytest.raises(UsageError, match="^" + re.escape("flag needs an argument: --tag")):
        _parse("--tag")


def test_double_dash_ends_the_flags() -> None:
    with pytest.raises(
        UsageError, match="^" + re.escape('unknown command "-p" for "skrender render"')
    ):
        _parse("--", "-p", "x")


def test_bad_flag_syntax_exits_1_as_skaffold_maps_it() -> None:
    # app/exitcode.go: only usage-like messages exit 127
    with pytest.raises(SkrenderError, match="^" + re.escape("bad flag syntax: ---x")) as info:
        _parse("---x")
    assert info.value.exit_code == 1


def test_global_flags_may_come_before_the_command(project: Path) -> None:
    done = skrender(project, "-v", "debug", "render", "--digest-source=tag", "--offline")
    assert done.returncode == 0, done.stderr
    assert "DEBUG Using a fall-back tagger" in done.stderr


def test_int_flags_parse_as_go(project: Path) -> None:
    assert _parse("--color=0x1F").color == 31  # type: ignore[attr-defined]
    assert _parse("--color=0o17").color == 15  # type: ignore[attr-defined]
    assert _parse("--color=017").color == 15  # type: ignore[attr-defined]
    assert _parse("--color=1_000").color == 1000  # type: ignore[attr-defined]
    with pytest.raises(UsageError, match=r'strconv.ParseInt: parsing "08": invalid syntax'):
        _parse("--color=08")
    with pytest.raises(UsageError, match="value out of range"):
        _parse("--color=9223372036854775808")


def test_an_invalid_enum_is_refused_at_parse_time() -> None:
    with pytest.raises(
        UsageError,
        match=re.escape(
            'invalid argument "sometimes" for "--sync-remote-cache" flag: value must be one '
            "of `always`, `missing`, or `never`"
        ),
    ):
        _parse("--sync-remote-cache=sometimes")


# --- string slices: one record of Go's encoding/csv ---------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a=b\nc", ["a=b"]),  # the record ends at the newline
        ("\na=b", ["a=b"]),  # a blank line is skipped
        ("a=b\r\nc", ["a=b"]),
        ("a\r", ["a"]),  # a trailing \r at the end of the input is dropped
        ('"a=b,c",d', ["a=b,c", "d"]),
        ('"say ""hi"""', ['say "hi"']),
        ('"multi\nline",x', ["multi\nline", "x"]),
        ("a,", ["a", ""]),
        ("", []),
    ],
)
def test_string_slices_read_one_csv_record(value: str, expected: list[str]) -> None:
    assert pflag.read_csv_record(value) == expected


# Go's encoding/csv reader_test.go: "∑" marks where the error is reported (1-based byte column)
@pytest.mark.parametrize(
    ("marked", "what"),
    [
        ('a∑""b,c', 'bare " in non-quoted-field'),  # BadDoubleQuotes
        ('a ∑"word","b"', 'bare " in non-quoted-field'),  # BadBareQuote
        ('"a word",b∑"', 'bare " in non-quoted-field'),  # BadTrailingQuote
        ('"a ∑"word","b"', 'extraneous or missing " in quoted-field'),  # ExtraneousQuote
    ],
)
def test_csv_errors_at_gos_positions(marked: str, what: str) -> None:
    column = len(marked[: marked.index("∑")].encode()) + 1
    with pytest.raises(ValueError) as info:
        pflag.read_csv_record(marked.replace("∑", ""))
    assert str(info.value) == f"parse error on line 1, column {column}: {what}"


def test_label_values_end_at_a_newline_in_the_render(project: Path) -> None:
    done = skrender(project, "render", "--digest-source=tag", "-l", "a=b\nc=d", "-l", '"e=f,g"')
    assert done.returncode == 0, done.stderr
    assert "  labels:\n    a: b\n    e: f,g\n  name: p\n" in done.stdout
    bad = skrender(project, "render", "-l", 'x"y')
    assert bad.returncode == 127
    assert bad.stderr.startswith(
        'invalid argument "x\\"y" for "-l, --label" flag: parse error on line 1, column 2: '
        'bare " in non-quoted-field\n'
    )


# --- values checked as skaffold checks them ------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cause"),
    [
        ("bogus", '"bogus": unknown operating system or architecture: invalid argument'),
        ("linux/foo", 'unknown architecture "foo"'),
        ("ios/arm64", 'unknown operating system "ios"'),  # containerd knows it, skaffold not
        ("a/b/c/d", '"a/b/c/d": cannot parse platform specifier: invalid argument'),
        ("linux/*", '"linux/*": wildcards not yet supported: invalid argument'),
    ],
)
def test_a_bad_platform_fails_the_render_with_exit_1(project: Path, value: str, cause: str) -> None:
    done = skrender(project, "render", "--digest-source=tag", f"--platform={value}")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(
        "creating runner: getting target platforms: failed to parse platforms: "
        f'unable to recognise platform "{value}": {cause}. Check that the value provided to '
        "--platform flag is a valid platform"
    )


@pytest.mark.parametrize("value", ["linux/amd64,linux/arm64", "linux/arm/v7", "ALL", "arm64"])
def test_good_platforms_render(project: Path, value: str) -> None:
    done = skrender(project, "render", "--digest-source=tag", "--platform", value)
    assert done.returncode == 0, done.stderr


def test_a_bad_log_level_fails_before_anything_runs(project: Path) -> None:
    done = skrender(project, "render", "-v", "loud")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == 'parsing log level: not a valid logrus Level: "loud"\n'
    from_env = skrender(project, "render", SKAFFOLD_VERBOSITY="nope")
    assert from_env.returncode == 1


# --- diagnostics -----------------------------------------------------------------------------


def test_debug_says_why_the_tagger_fell_back(project: Path) -> None:
    quiet = skrender(project, "render", "--digest-source=tag")
    assert quiet.returncode == 0 and "DEBUG" not in quiet.stderr
    assert "image: app:latest" in quiet.stdout
    for flag in (["-v", "debug"], ["--verbosity=debug"], ["-vDEBUG"]):
        done = skrender(project, "render", "--digest-source=tag", *flag)
        assert done.returncode == 0, done.stderr
        lines = done.stderr.splitlines()
        assert "DEBUG Using a fall-back tagger" in lines
        reason = lines[lines.index("DEBUG Using a fall-back tagger") - 1]
        assert reason.startswith("DEBUG image 'app': envTemplate tagger: ")
        assert "TAG_FROM_ENV" in reason or "environment variables missing" in reason


def test_debug_shows_each_external_command(project: Path, git_env: dict[str, str]) -> None:
    (project / "skaffold.yaml").write_text(
        CONFIG.replace('envTemplate:\n      template: "{{.TAG_FROM_ENV}}"', "gitCommit: {}")
    )
    done = skrender(project, "-v", "debug", "render", "--digest-source=tag", **git_env)
    assert done.returncode == 0, done.stderr
    assert any(
        line.startswith("DEBUG Running command: [git ") for line in done.stderr.splitlines()
    ), done.stderr


def test_log_lines_hide_credentials_and_stay_one_line() -> None:
    line = log.safe("Running command: [git fetch https://bot:s3cret@git.example/x.git]\nnext")
    assert line == "Running command: [git fetch https://***@git.example/x.git]\\nnext"
    assert "s3cret" not in log.safe("ssh://user:s3cret@host/x")


# --- errors said once --------------------------------------------------------------------------


def test_publish_errors_are_prefixed_once(project: Path) -> None:
    done = skrender(project, "publish", "--repo", str(project / "repo"), "--branch", "b",
                    str(project / "missing.yaml"))  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("publish: reading ")
    assert "publish: publish:" not in done.stderr


def test_said_once() -> None:
    assert said_once("publish: publish: reading x: boom") == "publish: reading x: boom"
    assert said_once("a: b\na: b\ncause") == "a: b\ncause"


def test_bulk_summary_keeps_the_cause_on_one_line() -> None:
    from engine.commands.bulk import one_line

    error = "fetching R: fatal: unable to connect to h:\nh[0]: errno=Connection refused"
    assert (
        one_line(error)
        == "fetching R: fatal: unable to connect to h: h[0]: errno=Connection refused"
    )


def test_artifact_platform_constraints_must_meet_the_targets(project: Path) -> None:
    config = CONFIG.replace("  - image: app\n", "  - image: app\n    platforms: [linux/arm64]\n")
    (project / "skaffold.yaml").write_text(config)
    assert skrender(project, "render", "--digest-source=tag").returncode == 0
    assert (
        skrender(project, "render", "--digest-source=tag", "--platform=linux/arm64/v8").returncode
        == 0
    )
    done = skrender(project, "render", "--digest-source=tag", "--platform=linux/amd64")
    assert done.returncode == 1
    assert done.stderr == (
        'creating runner: getting target platforms: build target platforms "linux/amd64" do not '
        'match platform constraints ["linux/arm64"] defined for artifact "app"\n'
    )
    (project / "skaffold.yaml").write_text(
        config.replace("tagPolicy:", "platforms: [os2/x]\n  tagPolicy:")
    )
    bad = skrender(project, "render", "--digest-source=tag")
    assert bad.returncode == 1
    assert 'unable to recognise platform "os2/x": unknown operating system "os2"' in bad.stderr


def test_skaffold_cmdline_is_the_command_line_of_a_bare_run(project: Path) -> None:
    # cmd/skaffold/app/skaffold.go: without arguments, SKAFFOLD_CMDLINE is split and run
    line = "render --digest-source=tag -l 'team=a b'"
    done = skrender(project, SKAFFOLD_CMDLINE=line)
    assert done.returncode == 0, done.stderr
    assert "    team: a b\n" in done.stdout
    ignored = skrender(project, "render", "--digest-source=tag", SKAFFOLD_CMDLINE="nonsense")
    assert ignored.returncode == 0
    bad = skrender(project, SKAFFOLD_CMDLINE="render 'x")
    assert (bad.returncode, bad.stderr) == (
        1,
        "SKAFFOLD_CMDLINE is invalid: Unterminated single-quoted string\n",
    )
