"""Upgrading a skaffold config document from its apiVersion to the latest, one step at a time.

Documents are plain dicts as decoded from YAML.  Each step follows skaffold's
``pkg/skaffold/schema/<version>/upgrade.go``: a structural clone into the next version's schema
(``CloneThroughJSON``: fields are matched by *Go field name*, so fields the next version does not
have are silently dropped and renamed YAML keys follow their Go field), then the few moves the
step performs explicitly, applied to the main pipeline and every profile's pipeline
(``pkg/skaffold/schema/util/upgrade_pipelines.go``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from engine.core.errors import ConfigError
from engine.skaffold import schema_fields

LATEST_VERSION = schema_fields.versions()[-1][0]

# apiVersion -> Go package name, in upgrade order
_PACKAGES: dict[str, str] = dict(schema_fields.versions())
_ORDER: list[str] = [v for v, _ in schema_fields.versions()]

Doc = dict[str, Any]
Table = dict[str, tuple[schema_fields.Field, ...]]


def is_known_version(api_version: str) -> bool:
    """True when ``api_version`` is one of skaffold's config versions (exact string)."""
    return api_version in _PACKAGES


def package_of(api_version: str) -> str:
    """Go package name of a version (``latest`` for the newest), used in type names."""
    return _PACKAGES[api_version]


@cache
def schema_types(package: str) -> Table:
    """The struct table of one schema package, rebuilt from the latest plus per-version diffs."""
    table: Table = dict(schema_fields.latest())
    names = [p for _, p in schema_fields.versions()]
    # DIFFS[p] holds p's types that differ from the next newer package: apply newest first.
    for pkg in reversed(names[names.index(package) : -1]):
        for type_name, fields in schema_fields.diffs()[pkg].items():
            if fields is None:
                table.pop(type_name, None)
            else:
                table[type_name] = fields
    return table


@cache
def flat_fields(package: str, type_name: str) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """YAML key -> (go name, type, flags) of a struct, inline members flattened."""
    out: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for key, go_name, typ, flags in schema_types(package).get(type_name, ()):
        if "inline" in flags:
            if typ in schema_types(package):
                out.update(flat_fields(package, typ))
            continue
        out[key] = (go_name, typ, flags)
    return out


@cache
def _by_go_name(package: str, type_name: str) -> dict[str, tuple[str, str]]:
    return {go: (key, typ) for key, (go, typ, _) in flat_fields(package, type_name).items()}


def upgrade(doc: Doc, api_version: str) -> Doc:
    """Upgrade one document from ``api_version`` to the latest version (a new dict)."""
    current = api_version
    out = doc
    while current != LATEST_VERSION:
        nxt = _ORDER[_ORDER.index(current) + 1]
        out = _step(out, current, nxt)
        current = nxt
    return out


def _step(doc: Doc, old_version: str, new_version: str) -> Doc:
    old_pkg, new_pkg = _PACKAGES[old_version], _PACKAGES[new_version]
    special = _SPECIAL.get(old_pkg)
    if old_pkg == "v1alpha1":
        new = _upgrade_v1alpha1(doc)
    else:
        new = _clone(doc, "SkaffoldConfig", "SkaffoldConfig", old_pkg, new_pkg)
    new["apiVersion"] = new_version
    if special is not None:
        for old_pl, new_pl in _pipelines(doc, new):
            special(old_pl, new_pl)
    if old_pkg == "v2beta29":
        _upgrade_v2beta29_patches(doc, new)
    return new


def _pipelines(old: Doc, new: Doc) -> list[tuple[Doc, Doc]]:
    """(old, new) pairs: the main pipeline (the document itself) and each profile's."""
    pairs = [(old, new)]
    old_profiles = old.get("profiles") or []
    new_profiles = new.get("profiles") or []
    for op, np in zip(old_profiles, new_profiles, strict=False):
        if isinstance(op, dict) and isinstance(np, dict):
            pairs.append((op, np))
    return pairs


def _clone(value: Any, old_type: str, new_type: str, old_pkg: str, new_pkg: str) -> Any:
    """CloneThroughJSON on plain data: keep what the new type has under the same Go name."""
    if value is None:
        return None
    if old_type.startswith("[]") and new_type.startswith("[]") and isinstance(value, list):
        return [_clone(v, old_type[2:], new_type[2:], old_pkg, new_pkg) for v in value]
    if old_type.startswith("map:") and new_type.startswith("map:") and isinstance(value, dict):
        return {
            k: _clone(v, old_type[4:], new_type[4:], old_pkg, new_pkg) for k, v in value.items()
        }
    old_struct = old_type in schema_types(old_pkg)
    new_struct = new_type in schema_types(new_pkg)
    if old_struct and new_struct and isinstance(value, dict):
        old_fields = flat_fields(old_pkg, old_type)
        new_fields = _by_go_name(new_pkg, new_type)
        out: Doc = {}
        for key, item in value.items():
            if key not in old_fields:
                continue
            go_name, typ, _ = old_fields[key]
            if go_name not in new_fields:
                continue  # the next version has no such field: JSON round trip drops it
            new_key, new_typ = new_fields[go_name]
            cloned = _clone(item, typ, new_typ, old_pkg, new_pkg)
            if cloned is not None:
                out[new_key] = cloned
        return out
    if old_struct != new_struct and not (old_type == "any" or new_type == "any"):
        return None  # the Go types are incompatible: json.Unmarshal leaves the zero value
    return copy.deepcopy(value)


def _dict(parent: Doc, key: str) -> Doc | None:
    value = parent.get(key)
    return value if isinstance(value, dict) else None


def _ensure(parent: Doc, key: str) -> Doc:
    value = parent.get(key)
    if not isinstance(value, dict):
        value = {}
        parent[key] = value
    return value


def _list(parent: Doc | None, key: str) -> list[Any]:
    if parent is None:
        return []
    value = parent.get(key)
    return value if isinstance(value, list) else []


# --- the explicit moves, per source package --------------------------------------------------


def _upgrade_v1alpha1(doc: Doc) -> Doc:
    """v1alpha1/upgrade.go: the whole document is rebuilt by hand."""
    build = _dict(doc, "build") or {}
    deploy = _dict(doc, "deploy") or {}
    new_build: Doc = {}
    policy = build.get("tagPolicy")
    if policy == "sha256":
        new_build["tagPolicy"] = {"sha256": {}}
    elif policy == "gitCommit":
        new_build["tagPolicy"] = {"gitCommit": {}}
    artifacts = []
    for art in _list(build, "artifacts"):
        if not isinstance(art, dict):
            continue
        # keys of v1alpha2 (the next version), which still says imageName/workspace
        new_art: Doc = {}
        if art.get("imageName"):
            new_art["imageName"] = art["imageName"]
        if art.get("workspace"):
            new_art["workspace"] = art["workspace"]
        if art.get("dockerfilePath") or art.get("buildArgs"):
            docker: Doc = {}
            if art.get("dockerfilePath"):
                docker["dockerfilePath"] = art["dockerfilePath"]
            if art.get("buildArgs"):
                docker["buildArgs"] = copy.deepcopy(art["buildArgs"])
            new_art["docker"] = docker
        artifacts.append(new_art)
    if artifacts:
        new_build["artifacts"] = artifacts
    gcb = _dict(build, "googleCloudBuild")
    if gcb is not None:
        new_build["googleCloudBuild"] = {k: v for k, v in gcb.items() if k == "projectId"}
    local = _dict(build, "local")
    if local is not None:
        new_build["local"] = {k: v for k, v in local.items() if k == "skipPush"}
    new_deploy: Doc = {}
    helm = _dict(deploy, "helm")
    if helm is not None:
        keys = ("name", "chartPath", "valuesFilePath", "values", "namespace", "version")
        releases = [
            {k: copy.deepcopy(r[k]) for k in keys if r.get(k)}
            for r in _list(helm, "releases")
            if isinstance(r, dict)
        ]
        new_deploy["helm"] = {"releases": releases} if releases else {}
    kubectl = _dict(deploy, "kubectl")
    if kubectl is not None:
        paths = [
            p for m in _list(kubectl, "manifests") if isinstance(m, dict) for p in _list(m, "paths")
        ]
        new_deploy["kubectl"] = {"manifests": paths} if paths else {}
    out: Doc = {"apiVersion": "", "kind": doc.get("kind", "")}
    if new_build:
        out["build"] = new_build
    if new_deploy:
        out["deploy"] = new_deploy
    return out


def _v1alpha2_helm(old: Doc, new: Doc) -> None:
    # v1alpha2/upgrade.go: helm valuesFilePath -> valuesFiles: [path]
    old_helm, new_helm = _dict(_dict(old, "deploy") or {}, "helm"), None
    new_deploy = _dict(new, "deploy")
    if new_deploy is not None:
        new_helm = _dict(new_deploy, "helm")
    for i, rel in enumerate(_list(old_helm, "releases")):
        if isinstance(rel, dict) and rel.get("valuesFilePath"):
            new_rels = _list(new_helm, "releases")
            if i < len(new_rels) and isinstance(new_rels[i], dict):
                new_rels[i]["valuesFiles"] = [rel["valuesFilePath"]]
    # build.kaniko (v1alpha2) -> kaniko with buildContext.gcsBucket (main pipeline only in
    # skaffold; profiles' kaniko is dropped by the clone there as well)
    kaniko = _dict(_dict(old, "build") or {}, "kaniko")
    if kaniko is not None and old.get("apiVersion") is not None:
        new_kaniko: Doc = {"buildContext": {}}
        if kaniko.get("gcsBucket"):
            new_kaniko["buildContext"]["gcsBucket"] = kaniko["gcsBucket"]
        for key in ("namespace", "pullSecret", "pullSecretName", "timeout"):
            if kaniko.get(key):
                new_kaniko[key] = kaniko[key]
        _ensure(new, "build")["kaniko"] = new_kaniko


def _v1alpha3_push(old: Doc, new: Doc) -> None:
    # v1alpha3/upgrade.go: local.skipPush -> local.push = !skipPush
    local = _dict(_dict(old, "build") or {}, "local")
    if local is not None and isinstance(local.get("skipPush"), bool):
        _ensure(_ensure(new, "build"), "local")["push"] = not local["skipPush"]


def _v1alpha5_acr(old: Doc, new: Doc) -> None:
    build = _dict(old, "build") or {}
    if build.get("acr") is not None:
        if old.get("apiVersion") is not None:
            raise ConfigError(
                "can't upgrade to skaffold/v1beta1, build.acr is not supported anymore, "
                "please remove it manually"
            )
        raise ConfigError(
            "can't upgrade to skaffold/v1beta1, profiles.build.acr is not supported anymore, "
            f"please remove it from the {old.get('name', '')} profile manually"
        )


def _v1beta6_kaniko(old: Doc, new: Doc) -> None:
    # v1beta6/upgrade.go: build.kaniko is copied into every artifact's kaniko and build.cluster
    kaniko = _dict(_dict(old, "build") or {}, "kaniko")
    if kaniko is None:
        return
    new_build = _ensure(new, "build")
    for art in _list(new_build, "artifacts"):
        if isinstance(art, dict):
            art["kaniko"] = _clone(kaniko, "KanikoBuild", "KanikoArtifact", "v1beta6", "v1beta7")
    new_build["cluster"] = _clone(kaniko, "KanikoBuild", "ClusterDetails", "v1beta6", "v1beta7")


def _v1beta8_plugins(old: Doc, new: Doc) -> None:
    # v1beta8/upgrade.go: builder plugins / execution environments become builders / build types
    old_build = _dict(old, "build") or {}
    new_build = _dict(new, "build")
    new_arts = _list(new_build, "artifacts")
    for i, art in enumerate(_list(old_build, "artifacts")):
        plugin = _dict(art, "plugin") if isinstance(art, dict) else None
        if plugin is None or i >= len(new_arts) or plugin.get("name") not in ("bazel", "docker"):
            continue
        props = plugin.get("properties")
        new_arts[i][plugin["name"]] = copy.deepcopy(props) if isinstance(props, dict) else {}
    env = _dict(old_build, "executionEnvironment")
    if env is not None and env.get("name") in ("googleCloudBuild", "local"):
        props = env.get("properties")
        _ensure(new, "build")[env["name"]] = copy.deepcopy(props) if isinstance(props, dict) else {}


def _v1beta9_sync(old: Doc, new: Doc) -> None:
    # v1beta9/upgrade.go: sync map {src: dest} -> sync.manual rules with strip
    simple = re.compile(r"^([^*]*/)?([^*/]*\*[^*/]*|[^*/]+)$")
    new_arts = _list(_dict(new, "build"), "artifacts")
    for i, art in enumerate(_list(_dict(old, "build"), "artifacts")):
        sync = art.get("sync") if isinstance(art, dict) else None
        if not isinstance(sync, dict) or not sync or i >= len(new_arts):
            continue
        rules = []
        for src, dest in sync.items():
            dest = "" if dest is None else str(dest)
            m = simple.match(src)
            if m:
                dest, strip = _simplify(dest, m.group(1) or "")
                rule: Doc = {"src": src, "dest": dest}
            elif "***" in src:
                dest, strip = _simplify(dest, src.split("***")[0])
                rule = {"src": src.replace("***", "**"), "dest": dest}
            else:
                rule, strip = {"src": src, "dest": dest}, ""
            if strip:
                rule["strip"] = strip
            rules.append(rule)
        new_arts[i]["sync"] = {"manual": rules}


def _simplify(dest: str, strip: str) -> tuple[str, str]:
    if strip in ("", "/") or dest == "":
        return dest, strip
    simple_dest, simple_strip = dest, strip
    if not dest.endswith("/"):
        dest += "/"
    if dest.endswith(strip):
        simple_dest = dest[: len(dest) - len(strip.lstrip("/"))] if strip.lstrip("/") else dest
        simple_strip = ""
        if simple_dest == "":
            simple_dest = "."
    return simple_dest, simple_strip


def _v1beta13_jib(old: Doc, new: Doc) -> None:
    # v1beta13/upgrade.go: jibMaven / jibGradle -> jib {project, args, type}
    new_arts = _list(_dict(new, "build"), "artifacts")
    for i, art in enumerate(_list(_dict(old, "build"), "artifacts")):
        if not isinstance(art, dict) or i >= len(new_arts):
            continue
        maven, gradle = _dict(art, "jibMaven"), _dict(art, "jibGradle")
        jib: Doc | None = None
        if maven is not None:
            flags = list(_list(maven, "args"))
            if maven.get("profile"):
                flags += ["--activate-profiles", maven["profile"]]
            jib = {"project": maven.get("module", ""), "args": flags, "type": "maven"}
        elif gradle is not None:
            jib = {"project": gradle.get("project", ""), "args": list(_list(gradle, "args"))}
            jib["type"] = "gradle"
        if jib is not None:
            new_arts[i]["jib"] = {k: v for k, v in jib.items() if v}


def _v2alpha1_kaniko(old: Doc, new: Doc) -> None:
    # v2alpha1/upgrade.go: kaniko.buildContext.localDir.initImage -> kaniko.initImage
    new_arts = _list(_dict(new, "build"), "artifacts")
    for i, art in enumerate(_list(_dict(old, "build"), "artifacts")):
        kaniko = _dict(art, "kaniko") if isinstance(art, dict) else None
        local_dir = _dict(_dict(kaniko, "buildContext") or {}, "localDir") if kaniko else None
        if local_dir is not None and local_dir.get("initImage") and i < len(new_arts):
            _ensure(new_arts[i], "kaniko")["initImage"] = local_dir["initImage"]


def _v2alpha2_kustomize(old: Doc, new: Doc) -> None:
    # v2alpha2/upgrade.go: deploy.kustomize.path -> deploy.kustomize.paths: [path]
    kustomize = _dict(_dict(old, "deploy") or {}, "kustomize")
    if kustomize is not None and kustomize.get("path"):
        _ensure(_ensure(new, "deploy"), "kustomize")["paths"] = [kustomize["path"]]


def _helm_releases(old: Doc, new: Doc) -> list[tuple[Doc, Doc]]:
    old_rels = _list(_dict(_dict(old, "deploy") or {}, "helm"), "releases")
    new_rels = _list(_dict(_dict(new, "deploy") or {}, "helm"), "releases")
    return [
        (o, n)
        for o, n in zip(old_rels, new_rels, strict=False)
        if isinstance(o, dict) and isinstance(n, dict)
    ]


def _v2beta3_values(old: Doc, new: Doc) -> None:
    # v2beta3/upgrade.go: helm release values -> artifactOverrides
    for o, n in _helm_releases(old, new):
        if o.get("values") is not None:
            n["artifactOverrides"] = copy.deepcopy(o["values"])


def _v2beta4_pull_secret(old: Doc, new: Doc) -> None:
    # v2beta4/upgrade.go: cluster.pullSecret -> cluster.pullSecretPath
    cluster = _dict(_dict(old, "build") or {}, "cluster")
    if cluster is not None and cluster.get("pullSecret"):
        _ensure(_ensure(new, "build"), "cluster")["pullSecretPath"] = cluster["pullSecret"]


def _v2beta8_auto(old: Doc, new: Doc) -> None:
    # v2beta8/upgrade.go: sync.auto: {} (a struct) becomes sync.auto: true
    new_arts = _list(_dict(new, "build"), "artifacts")
    for i, art in enumerate(_list(_dict(old, "build"), "artifacts")):
        sync = _dict(art, "sync") if isinstance(art, dict) else None
        if sync is not None and isinstance(sync.get("auto"), dict) and i < len(new_arts):
            _ensure(new_arts[i], "sync")["auto"] = True


def _v2beta12_remote(old: Doc, new: Doc) -> None:
    # v2beta12/upgrade.go: helm remote: true -> remoteChart: <chartPath>
    for o, n in _helm_releases(old, new):
        if o.get("remote") is True:
            n["remoteChart"] = o.get("chartPath", "")
            n.pop("chartPath", None)


def _v2beta22_secret(old: Doc, new: Doc) -> None:
    # v2beta22/upgrade.go: docker.secret -> docker.secrets: [{id, src}]
    new_arts = _list(_dict(new, "build"), "artifacts")
    for i, art in enumerate(_list(_dict(old, "build"), "artifacts")):
        docker = _dict(art, "docker") if isinstance(art, dict) else None
        secret = _dict(docker, "secret") if docker is not None else None
        if secret is not None and i < len(new_arts):
            entry = {k: secret[k] for k in ("id", "src") if secret.get(k)}
            _ensure(new_arts[i], "docker")["secrets"] = [entry]


def _v2beta27_platforms(old: Doc, new: Doc) -> None:
    # v2beta27/upgrade.go: ko.platforms -> artifact platforms
    new_arts = _list(_dict(new, "build"), "artifacts")
    for i, art in enumerate(_list(_dict(old, "build"), "artifacts")):
        ko = _dict(art, "ko") if isinstance(art, dict) else None
        if ko is not None and _list(ko, "platforms") and i < len(new_arts):
            new_arts[i]["platforms"] = list(ko["platforms"])


def _v3_remote_manifests(old: Doc, new: Doc) -> None:
    # v3/upgrade.go: deploy.kubectl.remoteManifests -> manifests.remoteManifests[{manifest, ...}]
    deploy = _dict(old, "deploy") or {}
    kubectl = _dict(deploy, "kubectl")
    if kubectl is None:
        return
    context = deploy.get("kubeContext") or ""
    entries = []
    for m in _list(kubectl, "remoteManifests"):
        entry: Doc = {"manifest": m}
        if context:
            entry["kubeContext"] = context
        entries.append(entry)
    if entries:
        manifests = _ensure(new, "manifests")
        manifests["remoteManifests"] = list(_list(manifests, "remoteManifests")) + entries
    new_kubectl = _dict(_dict(new, "deploy") or {}, "kubectl")
    if new_kubectl is not None:
        new_kubectl.pop("remoteManifests", None)


def sanitize_helm_template_value(value: str) -> str:
    """pkg/skaffold/util: image-name characters illegal in template names become ``_``."""
    return re.sub(r"[.\-/:]", "_", value)


def _v2beta29_pipeline(old: Doc, new: Doc) -> None:
    """v2beta29/upgrade.go: deploy.kubectl/kustomize/helm move into ``manifests``."""
    deploy = _dict(old, "deploy") or {}
    kubectl, kustomize = _dict(deploy, "kubectl"), _dict(deploy, "kustomize")
    if kubectl is not None and kubectl.get("manifests") is not None:
        _ensure(new, "manifests")["rawYaml"] = list(kubectl["manifests"])
    if kustomize is not None:
        render_k: Doc = {"paths": list(_list(kustomize, "paths")) or ["."]}
        if _list(kustomize, "buildArgs"):
            render_k["buildArgs"] = list(kustomize["buildArgs"])
        _ensure(new, "manifests")["kustomize"] = render_k
        _merge_kustomize_into_kubectl(new, kustomize)
    if deploy.get("kpt") is not None:
        raise ConfigError("converting deploy.kpt isn't currently supported")
    helm = _dict(deploy, "helm")
    if helm is not None:
        _v2beta29_helm(helm, new)


def _merge_kustomize_into_kubectl(new: Doc, kustomize: Doc) -> None:
    cloned = _clone(kustomize, "KustomizeDeploy", "KubectlDeploy", "v2beta29", "v3alpha1")
    new_deploy = _ensure(new, "deploy")
    kubectl = _dict(new_deploy, "kubectl")
    if kubectl is None:
        new_deploy["kubectl"] = cloned
        return
    k_ns, c_ns = kubectl.get("defaultNamespace"), cloned.get("defaultNamespace")
    if k_ns is not None and c_ns is not None and k_ns != c_ns:
        raise ConfigError(
            "can't merge defaultNamespace property from kustomize into kubectl deployer, "
            "property is already set with different value"
        )
    k_flags, c_flags = kubectl.get("flags") or {}, cloned.get("flags") or {}
    if bool(k_flags.get("disableValidation")) != bool(c_flags.get("disableValidation")):
        raise ConfigError(
            "can't merge disableValidation property from kustomize into kubectl deployer, "
            "property is already set with different value"
        )
    if c_ns is not None:
        kubectl["defaultNamespace"] = c_ns
    flags: Doc = {}
    if c_flags.get("disableValidation"):
        flags["disableValidation"] = True
    for key in ("global", "apply", "delete"):
        merged = list(k_flags.get(key) or []) + list(c_flags.get(key) or [])
        if merged:
            flags[key] = merged
    kubectl["flags"] = flags
    k_hooks, c_hooks = kubectl.get("hooks") or {}, cloned.get("hooks") or {}
    hooks: Doc = {}
    for key in ("before", "after"):
        merged = list(k_hooks.get(key) or []) + list(c_hooks.get(key) or [])
        if merged:
            hooks[key] = merged
    kubectl["hooks"] = hooks


def _v2beta29_helm(helm: Doc, new: Doc) -> None:
    legacy = _clone(helm, "HelmDeploy", "LegacyHelmDeploy", "v2beta29", "v3alpha1")
    render_helm: Doc = {}
    releases = copy.deepcopy(legacy.get("releases") or [])
    old_releases = _list(helm, "releases")
    for i, rel in enumerate(releases):
        old_rel = old_releases[i] if i < len(old_releases) else {}
        svs = old_rel.get("setValues")
        svts = old_rel.get("setValueTemplates")
        aos = old_rel.get("artifactOverrides")
        svs = dict(svs) if isinstance(svs, dict) else None
        svts = dict(svts) if isinstance(svts, dict) else None
        if isinstance(aos, dict) and svs is None:
            svs = {}
        convention = _dict(_dict(old_rel, "imageStrategy") or {}, "helm")
        for k, v in (aos or {}).items() if isinstance(aos, dict) else ():
            svts = {} if svts is None else svts
            name = sanitize_helm_template_value(str(v))
            if convention is not None:
                svts[f"{k}.tag"] = f"{{{{.IMAGE_TAG_{name}}}}}@{{{{.IMAGE_DIGEST_{name}}}}}"
                svts[f"{k}.repository"] = f"{{{{.IMAGE_REPO_{name}}}}}"
                if convention.get("explicitRegistry"):
                    svts[f"{k}.registry"] = f"{{{{.IMAGE_DOMAIN_{name}}}}}"
                    svts[f"{k}.repository"] = f"{{{{.IMAGE_REPO_NO_DOMAIN_{name}}}}}"
            else:
                svts[k] = f"{{{{.IMAGE_FULLY_QUALIFIED_{name}}}}}"
        for key, val in (("setValues", svs), ("setValueTemplates", svts)):
            if val:
                rel[key] = val
            else:
                rel.pop(key, None)
    if releases:
        render_helm["releases"] = releases
    if legacy.get("flags"):
        render_helm["flags"] = copy.deepcopy(legacy["flags"])
    _ensure(new, "manifests")["helm"] = render_helm
    new_legacy: Doc = {}
    for key in ("hooks", "releases", "flags"):
        if legacy.get(key):
            new_legacy[key] = copy.deepcopy(legacy[key])
    _ensure(new, "deploy")["helm"] = new_legacy


_MIGRATIONS = {
    "/deploy/kubectl/manifests": "/manifests/rawYaml",
    "/deploy/kustomize/paths": "/manifests/kustomize/paths",
    "/deploy/kustomize/buildArgs": "/manifests/kustomize/buildArgs",
    "/deploy/helm": "/manifests/helm",
}
_ARTIFACT_OVERRIDES = re.compile(r"/deploy/helm/releases/[0-9]+/artifactOverrides/image")


def _v2beta29_patches(old_profile: Doc, new_profile: Doc, old_main: Doc) -> None:
    """Rewrite one profile's patch paths (v2beta29/upgrade.go upgradePatches & co)."""
    old_patches = [p for p in _list(old_profile, "patches") if isinstance(p, dict)]
    patches = copy.deepcopy(old_patches)
    appended: list[Doc] = []
    for i, old in enumerate(old_patches):
        path = str(old.get("path", ""))
        if _ARTIFACT_OVERRIDES.search(path):
            appended += _artifact_override_patch(patches[i], path, old_main)
    # duplicateHelmPatches: originals of /deploy/helm patches keep hitting deploy.helm
    dupes = [
        copy.deepcopy(p)
        for p in patches
        if "/deploy/helm" in str(p.get("path", "")) and "/deploy/helm/hooks" not in p["path"]
    ]
    for i, old in enumerate(old_patches):
        path = str(old.get("path", ""))
        if _ARTIFACT_OVERRIDES.search(path) or "/deploy/helm/hooks" in path:
            continue
        for src, dst in _MIGRATIONS.items():
            if src in path:
                patches[i]["path"] = path.replace(src, dst)
    result = patches + appended + dupes
    if result or "patches" in new_profile:
        new_profile["patches"] = result


def _artifact_override_patch(patch: Doc, path: str, old_main: Doc) -> list[Doc]:
    helm = _dict(_dict(old_main, "deploy") or {}, "helm")
    if helm is None:
        return []
    idx = int(path.split("/")[4])
    new_path = path.replace("/deploy/helm", "/manifests/helm").replace(
        "artifactOverrides", "setValueTemplates"
    )
    name = sanitize_helm_template_value(str(patch.get("value", "")))
    rels = _list(helm, "releases")
    rel = rels[idx] if idx < len(rels) and isinstance(rels[idx], dict) else {}
    convention = _dict(_dict(rel, "imageStrategy") or {}, "helm")
    if convention is None:
        patch["value"] = f"{{{{.IMAGE_FULLY_QUALIFIED_{name}}}}}"
        patch["path"] = new_path
        return []
    patch["path"] = new_path + ".tag"
    patch["value"] = f"{{{{.IMAGE_TAG_{name}}}}}@{{{{.IMAGE_DIGEST_{name}}}}}"
    extra = {k: v for k, v in patch.items() if k in ("op", "from")}
    if convention.get("explicitRegistry"):
        return [
            {**extra, "path": new_path + ".registry", "value": f"{{{{.IMAGE_DOMAIN_{name}}}}}"},
            {
                **extra,
                "path": new_path + ".repository",
                "value": f"{{{{.IMAGE_REPO_NO_DOMAIN_{name}}}}}",
            },
        ]
    return [{**extra, "path": new_path + ".repository", "value": f"{{{{.IMAGE_REPO_{name}}}}}"}]


def _upgrade_v2beta29_patches(old: Doc, new: Doc) -> None:
    for old_p, new_p in zip(_list(old, "profiles"), _list(new, "profiles"), strict=False):
        if isinstance(old_p, dict) and isinstance(new_p, dict):
            _v2beta29_patches(old_p, new_p, old)


_SPECIAL: dict[str, Callable[[Doc, Doc], None]] = {
    "v1alpha2": _v1alpha2_helm,
    "v1alpha3": _v1alpha3_push,
    "v1alpha5": _v1alpha5_acr,
    "v1beta6": _v1beta6_kaniko,
    "v1beta8": _v1beta8_plugins,
    "v1beta9": _v1beta9_sync,
    "v1beta13": _v1beta13_jib,
    "v2alpha1": _v2alpha1_kaniko,
    "v2alpha2": _v2alpha2_kustomize,
    "v2beta3": _v2beta3_values,
    "v2beta4": _v2beta4_pull_secret,
    "v2beta8": _v2beta8_auto,
    "v2beta12": _v2beta12_remote,
    "v2beta22": _v2beta22_secret,
    "v2beta27": _v2beta27_platforms,
    "v2beta29": _v2beta29_pipeline,
    "v3": _v3_remote_manifests,
}
