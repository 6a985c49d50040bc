"""The layout's two rules, so that a move or a new import cannot quietly break them: the runtime (what `emosmooth` and
`import app` load) never depends on training, fitting or benchmark code, and no two modules import each other, even
through a function-local import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from models.roots import REPO

PACKAGES = ("app", "models", "smoothing", "benchmarks")
TOOLS = ("models.training", "smoothing.fitting", "benchmarks")  # what the runtime must never load
# `emosmooth bench` is the one door from the command line to the benchmarks: it imports them only when it runs.
DOORS = {("app.cli", "benchmarks.__main__")}


def project_modules() -> dict[str, Path]:
    """Every module of the four packages by dotted name (a package by its own name)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            modules[name] = path
    return modules


def imported_names(path: Path) -> set[str]:
    """Every module an import statement of the file names, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return names


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: {target for target in imported_names(path) if target in modules} - {name} for name, path in
            modules.items()}  # fmt: skip


def is_tool(module: str) -> bool:
    return any(module == tool or module.startswith(tool + ".") for tool in TOOLS)


def test_no_runtime_module_names_a_tool_module_anywhere():
    offenders = {
        module: tools
        for module, targets in import_graph().items()
        if not is_tool(module) and (tools := sorted(t for t in targets if is_tool(t) and (module, t) not in DOORS))
    }
    assert offenders == {}


def test_importing_the_runtime_and_building_its_parts_loads_no_tool():
    code = (
        "import sys, app, app.api, app.cli, models, smoothing\n"
        "app.cli.build_parser()\n"
        "models.load_classifier()\n"
        "[smoothing.create(name) for name in smoothing.available()]\n"
        f"print(sorted(m for m in sys.modules if m.startswith({TOOLS!r})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one module: each is an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while (top := stack.pop()) != module:
                component.append(top)
            if component:
                cycles.append(sorted([module, *component]))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def test_no_two_modules_import_each_other():
    assert strongly_connected(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
