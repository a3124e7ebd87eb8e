"""The package's folders are its layers: a module imports only layers below its own.

Read from the source (every ``import``, lazy and TYPE_CHECKING ones included), so a new
import that climbs a layer, or a cycle between two modules, fails here before review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[1] / "engine"

# Bottom to top.  A folder is one layer; pipeline, build and cli are single-module layers.
LAYERS = (
    "core",
    "golang",
    "yamlv3",
    "skaffold",
    "stages",
    "registry",
    "pipeline",
    "build",
    "gitops",
    "commands",
    "cli",
)
RANK = {name: rank for rank, name in enumerate(LAYERS)}
# The package face (engine/__init__.py: engine.render) and ``python -m engine`` sit on top.
FACE = {"engine": "pipeline", "engine.__main__": "cli"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ENGINE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """Every engine module ``name`` imports (``from engine.x import y`` counts ``engine.x.y``
    when that is a module, else ``engine.x``)."""
    modules = _modules()
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("engine"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if not target.startswith("engine"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
    return {module for module in found if module != name}


def _layer(module: str) -> str:
    if module in FACE:
        return "face"
    parts = module.split(".")
    return parts[1]


def test_every_module_is_in_a_layer() -> None:
    strays = [m for m in _modules() if m not in FACE and _layer(m) not in RANK]
    assert not strays, f"modules outside the layer folders: {strays}"


@pytest.mark.parametrize("module", sorted(_modules()))
def test_imports_only_go_down(module: str) -> None:
    path = _modules()[module]
    own = _layer(module)
    rank = RANK[FACE[module]] + 1 if own == "face" else RANK[own]
    upward = sorted(
        target
        for target in _imports(module, path)
        if _layer(target) != own and (_layer(target) == "face" or RANK[_layer(target)] >= rank)
    )
    assert not upward, f"{module} ({own}) imports layers at or above its own: {upward}"


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {name: _imports(name, path) & modules.keys() for name, path in modules.items()}
    # a package's __init__ is imported by its submodules implicitly: not an edge
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_each_layer_says_what_it_is() -> None:
    for layer in LAYERS:
        init = ENGINE / layer / "__init__.py"
        if (ENGINE / layer).is_dir():
            doc = ast.get_docstring(ast.parse(init.read_text()))
            assert doc and "import" in doc.lower(), f"{init} must say what the layer may import"
