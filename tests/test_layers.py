"""The parts of the package stand on each other without cycles (DESIGN.md: lower parts never
import upper ones, and two parts never import each other)."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "denoisekit"


def _part(module: str) -> str:
    """The part a module belongs to: its subpackage, or the module itself at the top level."""
    return module.split(".")[1] if module.count(".") >= 1 else module


def _imports(path: Path) -> set[str]:
    """denoisekit modules imported anywhere in `path` (function-level imports included)."""
    module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
            found.update(n for n in names if n.startswith("denoisekit."))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("denoisekit."))
    return {n.removesuffix(".__init__") for n in found}


def _part_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        if path.name == "__main__.py" or path == SRC / "__init__.py":
            continue
        src = _part(".".join(path.relative_to(SRC.parent).with_suffix("").parts))
        for target in _imports(path):
            dst = _part(target)
            if dst != src and dst != "denoisekit":
                graph.setdefault(src, set()).add(dst)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return trail + [node, nxt]
            if nxt not in state and (found := visit(nxt, trail + [node])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [])):
            return found
    return None


def test_parts_import_each_other_without_cycles():
    cycle = _cycle(_part_graph())
    assert cycle is None, "import cycle between parts: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("checkpoints", "train"),
        ("checkpoints", "inference"),
        ("inference", "train"),
        ("noise", "calibration"),
        ("models", "inference"),
    ],
)
def test_lower_parts_do_not_import_upper_ones(lower, upper):
    assert upper not in _part_graph().get(lower, set())


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None
