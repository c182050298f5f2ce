"""Imports run one way: no module of the package imports from a layer above its own.

Data flows spec -> layers -> network -> derivations, proofs, checks -> importers
-> renderers -> command line. Every import counts, at module level or inside a
function, and so does the package ``__init__`` that an import of a submodule
runs. Within a layer, the imports form no cycle.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symconv"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("symconv.errors", "symconv.display", "symconv.notation", "symconv.numeric.counting"),
    ("symconv.sizes",),
    ("symconv.layers",),
    ("symconv.report",),
    ("symconv.evaluate",),
    ("symconv.network",),
    (
        "symconv.spec",
        "symconv.zoo",
        "symconv.numeric",
        "symconv.training",
        "symconv.conventions",
        "symconv.queries",
        "symconv.prove",
    ),
    (
        "symconv.check",
        "symconv.scaling",
        "symconv.exercises",
        "symconv.explain",
        "symconv.roofline",
        "symconv.attention_growth",
    ),
    ("symconv.importers",),
    ("symconv.render",),
    ("symconv.cli", "symconv"),
)
"""Lowest first; a module belongs to the layer of its longest listed prefix."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    best, found = -1, None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    assert found is not None, f"{module} belongs to no layer of the declared order"
    return found


def imports(module: str) -> set[str]:
    """The package's modules that ``module`` imports, anywhere in its body."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in MODULES else source)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in MODULES and name != module}


def runs(module: str) -> set[str]:
    """An import of ``module`` also runs the ``__init__`` of each package above it (the top excepted)."""
    parts = module.split(".")
    return {".".join(parts[:end]) for end in range(2, len(parts) + 1)}


def test_every_module_has_a_layer_and_imports() -> None:
    for module in MODULES:
        layer(module)
        importlib.import_module(module)


def test_no_module_imports_from_a_layer_above() -> None:
    upward = []
    for module in MODULES:
        own = layer(module)
        for target in imports(module):
            for ran in runs(target):
                if ran != module and not module.startswith(ran + ".") and layer(ran) > own:
                    upward.append(f"{module} (layer {own}) imports {ran} (layer {layer(ran)})")
    assert not upward, "\n".join(sorted(set(upward)))


def test_no_import_cycles() -> None:
    graph = {module: imports(module) for module in MODULES}
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("symconv.layers.conv", 2),
        ("symconv.numeric.counting", 0),
        ("symconv.numeric.conv", 6),
        ("symconv.render.latex", 9),
        ("symconv", 10),
    ],
)
def test_longest_prefix_decides_the_layer(module: str, expected: int) -> None:
    assert layer(module) == expected
