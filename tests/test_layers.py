"""The project's floors, as a test (docs/ARCHITECTURE.md).

Every import of a project module, at module level or inside a function, is read from the source
with ``ast`` and checked against the allowed directions:

* kernel (``zoning.policy``, ``zoning.scenario``, ``zoning.errors``): imports nothing of the project
  (but each other);
* ``zoning`` (the model): the kernel and ``zoning`` only, never ``geodata``, ``maps``, ``pipelines``
  or ``cli``;
* ``geodata``: the kernel and ``geodata``;
* ``maps``: the kernel, ``geodata`` and ``maps``;
* ``pipelines``: anything but ``cli``;
* ``cli``: the kernel and ``pipelines`` only.

And no import cycle between files, function-level imports counted.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("zoning", "geodata", "maps", "pipelines")
KERNEL = {"zoning.policy", "zoning.scenario", "zoning.errors"}

ALLOWED = {
    "kernel": {"kernel"},
    "zoning": {"kernel", "zoning"},
    "geodata": {"kernel", "geodata"},
    "maps": {"kernel", "geodata", "maps"},
    "pipelines": {"kernel", "zoning", "geodata", "maps", "pipelines"},
    "cli": {"kernel", "pipelines"},
}


def project_modules() -> dict[str, Path]:
    mods = {"cli": ROOT / "cli.py"}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    return mods


def floor(module: str) -> str:
    if module in KERNEL:
        return "kernel"
    return module.split(".")[0]


def _resolve(name: str, mods: dict) -> str | None:
    """The project module an imported name refers to (``pkg.mod.attr`` -> ``pkg.mod``)."""
    while name:
        if name in mods:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, mods: dict) -> list[tuple[str, int]]:
    """(imported project module, line) for every import statement in the file, nested ones too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names] or [base]
        for name in names:
            target = _resolve(name, mods)
            if target and target != module and not module.startswith(target + "."):
                found.append((target, node.lineno))
    return found


def test_no_top_level_workflow_module():
    assert not (ROOT / "workflow.py").exists(), "workflow.py: the pipelines live in the pipelines package"


def test_imports_follow_the_floors():
    mods = project_modules()
    wrong = []
    for module, path in mods.items():
        mine = floor(module)
        for target, line in imports_of(module, path, mods):
            theirs = floor(target)
            if theirs not in ALLOWED[mine]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} {module} ({mine}) imports {target} ({theirs})")
    assert not wrong, "imports against the floors:\n" + "\n".join(wrong)


def test_no_import_cycles():
    mods = project_modules()
    graph = {m: sorted({t for t, _ in imports_of(m, p, mods)}) for m, p in mods.items()}
    # a package's __init__ importing its own submodules is not a cycle between files
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("module", sorted(KERNEL))
def test_kernel_imports_nothing_of_the_project(module):
    mods = project_modules()
    if module not in mods:
        pytest.fail(f"kernel module {module} missing")
    others = [t for t, _ in imports_of(module, mods[module], mods) if t not in KERNEL]
    assert not others, f"{module} imports {others}"


def test_no_project_import_inside_a_function():
    """Project modules are imported at the top of a file: an import inside a function is how a
    cycle hides."""
    mods = project_modules()
    hidden = []
    for module, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0]
                                                         in {*PACKAGES, "cli", "workflow"}):
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module}")
                elif isinstance(node, ast.Import) and any(a.name.split(".")[0] in {*PACKAGES, "cli", "workflow"}
                                                          for a in node.names):
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno} import {node.names[0].name}")
    assert not hidden, "project imports inside functions:\n" + "\n".join(hidden)
