"""rawYaml manifests pass through kyaml before skaffold reads them (issue 15, item 6).

skaffold's kubectl renderer re-encodes every rawYaml document with kyaml
(pkg/skaffold/render/renderer/kubectl/kubectl.go: applySetters.Apply, kio.ByteReader then
RNode.MustString), whose yaml.v3 encoder writes an empty plain scalar in a flow collection as
``''``: ``{a: }``, ``{a}``, ``[a: ]`` and ``!!set {a, b}`` come out as empty strings.
"""

from __future__ import annotations

from pathlib import Path

from engine import yamlv3
from engine.pipeline import RenderRequest, render

CONFIG = """apiVersion: skaffold/v4beta13
kind: Config
manifests:
  rawYaml:
    - k8s/x.yaml
"""
MANIFEST = """apiVersion: example.com/v1
kind: Thing
metadata:
  name: t
spec:
  map: {a: }
  key: {a}
  seq: [a: ]
  set: !!set {a, b}
  block:
    a:
"""


def test_flow_empty_values_render_as_empty_strings(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "skaffold.yaml").write_text(CONFIG)
    (tmp_path / "k8s" / "x.yaml").write_text(MANIFEST)
    request = RenderRequest(cwd=str(tmp_path), digest_source="tag", env={"HOME": str(tmp_path)})
    text = render(request).text
    (doc,) = yamlv3.load_all(text)
    assert doc["spec"] == {
        "map": {"a": ""},
        "key": {"a": ""},
        "seq": [{"a": ""}],
        "set": {"a": "", "b": ""},
        "block": {"a": None},  # a block value is written empty: null again
    }
    assert '    a: ""\n' in text and "    a: null\n" in text


KUSTOMIZE_CONFIG = """apiVersion: skaffold/v4beta13
kind: Config
manifests:
  kustomize:
    paths:
      - k8s
"""


def test_kustomize_sees_kyamls_rewrite(tmp_path: Path) -> None:
    # kustomize.go mirrors each manifest and runs ApplySetters.ApplyPath on it (kyaml writes
    # the file back) before real `kubectl kustomize` reads it
    (tmp_path / "k8s").mkdir()
    (tmp_path / "skaffold.yaml").write_text(KUSTOMIZE_CONFIG)
    (tmp_path / "k8s" / "kustomization.yaml").write_text("resources:\n  - x.yaml\n")
    (tmp_path / "k8s" / "x.yaml").write_text(MANIFEST)
    request = RenderRequest(cwd=str(tmp_path), digest_source="tag", env=None)
    (doc,) = yamlv3.load_all(render(request).text)
    assert doc["spec"]["map"] == {"a": ""}
    assert doc["spec"]["key"] == {"a": ""}
    assert doc["spec"]["set"] == {"a": "", "b": ""}
    assert doc["spec"]["block"] == {"a": None}
