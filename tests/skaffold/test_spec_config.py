"""Spec §1.2 (parsing stages), §2.2 (activation errors), §13 (error messages)."""

from __future__ import annotations

from pathlib import Path

from test_spec_flags import project, render

__all__ = ["project"]  # the fixture, shared with test_spec_flags

MINIMAL = "apiVersion: skaffold/v4beta14\nkind: Config\n"
UNKNOWN_EMPTY = (
    "parsing skaffold config: error parsing skaffold configuration file: "
    'unknown skaffold config API version "".'
)


def test_trailing_document_separator_is_an_empty_document(project: Path) -> None:
    # yaml.v3 decodes the empty document after a trailing `---` into an empty APIVersion
    # (schema/versions.go: configFactoryFromAPIVersion)
    (project / "skaffold.yaml").write_text(MINIMAL + "---\n")
    result = render(project)
    assert result.returncode == 1
    assert result.stderr.startswith(UNKNOWN_EMPTY)
    (project / "skaffold.yaml").write_text(MINIMAL + "---\n# only a comment\n")
    assert render(project).stderr.startswith(UNKNOWN_EMPTY)


def test_leading_document_separator_is_fine(project: Path) -> None:
    (project / "skaffold.yaml").write_text("---\n" + MINIMAL)
    assert render(project).returncode == 0


def test_activation_errors_are_wrapped_like_apply_profiles(project: Path) -> None:
    # schema/profiles.go ApplyProfiles: "finding auto-activated profiles: %w"
    (project / "skaffold.yaml").write_text(
        MINIMAL + "profiles:\n- name: x\n  activation: [{env: NOEQ}]\n"
    )
    result = render(project)
    assert result.returncode == 1
    assert (
        'defined in file "' + str(project / "skaffold.yaml") + '": finding auto-activated '
        "profiles: invalid env variable format: NOEQ, should be KEY=VALUE. There's an issue"
    ) in result.stderr


def test_output_to_missing_directory_names_the_path_as_given(project: Path) -> None:
    # §13: `-o nodir/x.yaml` -> "open nodir/x.yaml: no such file or directory", exit 1
    result = render(project, "-o", "nodir/x.yaml")
    assert result.returncode == 1
    assert result.stderr == "open nodir/x.yaml: no such file or directory\n"
    # the name `-` is an ordinary file (§12)
    assert render(project, "-o", "-").stdout == ""
    assert "image: app:base" in (project / "-").read_text()
