"""The package's plan, pinned: stages in data-flow order, each importing only from
itself and the stages before it, no two modules importing each other, internal
imports at the top of the file.

    ground -> data -> backbones -> features -> model -> inference -> evaluation
           -> training -> exports -> live -> faces

An import may stay inside a function only to put off a heavy library: a third-party
one, or a module of ours that imports one (torch, FastAPI, ...) when it is loaded;
and in the CLI's command bodies, which keep ``--help`` instant. Every import is
read, indented ones too.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest
from paths import ROOT

SRC = ROOT / "src"

# The order data flows in: a module may import its own stage and the ones before it.
STAGES = ("ground", "data", "backbones", "features", "model", "inference", "evaluation",
          "training", "exports", "live", "faces")
GROUND = {"config", "errors", "cache", "progress", "stopping", "native_output", "actions"}
FACES = {"", "cli", "cli_text", "demo"}  # "" is the package's own __init__
# Libraries that take seconds to import, or come from an optional extra.
HEAVY = {"torch", "torchvision", "timm", "torchao", "coremltools", "executorch", "litert_torch",
         "ai_edge_litert", "ai_edge_quantizer", "mediapipe", "onnxscript", "ray", "pyarrow",
         "fastapi", "starlette", "uvicorn", "pydantic", "cv2", "pynput", "cryptography",
         "matplotlib"}
LAZY_IMPORTERS = {"pocketvision.cli"}  # command bodies import what they run


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    nested: bool  # inside a function
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / "pocketvision").rglob("*.py"))}


def stage_of(module: str) -> str:
    parts = module.split(".")[1:]  # without "pocketvision"
    head = parts[0] if parts else ""
    if head in GROUND:
        return "ground"
    if head in FACES:
        return "faces"
    assert head in STAGES, f"{module} is in no stage: add its package to STAGES"
    return head


def imports_of(path: Path, known: dict[str, Path]) -> list[Import]:
    """Every import statement in the file, with the module it names (a ``from
    package import submodule`` names the submodule)."""
    tree = ast.parse(path.read_text())
    importer = module_name(path)
    found = []

    def visit(node, nested: bool):
        for child in ast.iter_child_nodes(node):
            if _type_checking_only(child):
                continue  # names for annotations: nothing is imported when the code runs
            inside = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend(Import(importer, alias.name, nested, child.lineno)
                             for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                targets = [f"{child.module}.{a.name}" for a in child.names
                           if f"{child.module}.{a.name}" in known]
                found.extend(Import(importer, t, nested, child.lineno)
                             for t in targets or [child.module])
            visit(child, inside)

    visit(tree, False)
    return found


def _type_checking_only(node) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) \
        and node.test.id == "TYPE_CHECKING"


def all_imports() -> list[Import]:
    known = modules()
    return [i for path in known.values() for i in imports_of(path, known)]


def internal(imports: list[Import]) -> list[Import]:
    return [i for i in imports if i.target.split(".")[0] == "pocketvision"]


def heavy_modules(imports: list[Import]) -> set[str]:
    """Our modules that import a heavy library when loaded (directly, or through
    another of ours)."""
    top = [i for i in imports if not i.nested]
    heavy = {i.importer for i in top if i.target.split(".")[0] in HEAVY}
    while True:
        more = {i.importer for i in internal(top) if i.target in heavy} - heavy
        if not more:
            return heavy
        heavy |= more


def test_no_stage_imports_a_later_one():
    upward = [f"{i.importer} ({stage_of(i.importer)}) imports {i.target} ({stage_of(i.target)}) "
              f"at line {i.line}" for i in internal(all_imports())
              if STAGES.index(stage_of(i.target)) > STAGES.index(stage_of(i.importer))]
    assert upward == []


def test_no_modules_import_each_other():
    edges: dict[str, set[str]] = {}
    for i in internal(all_imports()):
        if i.target != i.importer:
            edges.setdefault(i.importer, set()).add(i.target)
    assert cycles(edges) == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def test_internal_imports_are_at_the_top():
    imports = all_imports()
    heavy = heavy_modules(imports)
    lazy = [f"{i.importer}:{i.line} imports {i.target} inside a function"
            for i in internal(imports)
            if i.nested and i.target not in heavy and i.importer not in LAZY_IMPORTERS]
    assert lazy == []


@pytest.mark.parametrize("fault", ["circle", "upward", "lazy"])
def test_the_checks_find_each_kind_of_fault(fault):
    """The three faults this test was written against, planted in a copy of the
    real import list: each check must see its own."""
    imports = all_imports()
    if fault == "circle":
        imports.append(Import("pocketvision.backbones.network", "pocketvision.features.graph",
                              True, 1))
        edges: dict[str, set[str]] = {}
        for i in internal(imports):
            edges.setdefault(i.importer, set()).add(i.target)
        assert cycles(edges)
    elif fault == "upward":
        planted = Import("pocketvision.exports.web_app", "pocketvision.live.server", True, 1)
        assert STAGES.index(stage_of(planted.target)) > STAGES.index(stage_of(planted.importer))
    else:
        planted = Import("pocketvision.training.job", "pocketvision.model.head", True, 1)
        assert planted.target not in heavy_modules(imports)


def test_the_readme_test_command_is_what_ci_runs():
    """The README's second quick-start command installs everything the tests need
    (tests/install.sh) and runs them; .ci/run runs exactly that line."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = block.strip().splitlines()
    assert len(commands) == 2 and commands[1] == "bash tests/install.sh && python -m pytest"
    assert commands[1] in (ROOT / ".ci" / "run").read_text().splitlines()


# ---- the pages' JavaScript (src/pocketvision/web/) -------------------------------------
# Each folder of web/ may load only from the folders listed for it: the recipe (the
# twins of the Python recipe) stands alone, the app and the integration client build on
# it, and only they reach the vendored onnxruntime-web.
JS_MAY_LOAD = {"recipe": {"recipe"}, "app": {"app", "recipe", "vendor"},
               "client": {"client", "recipe", "vendor"}}


def js_faults(loads_of: dict[str, set[str]]) -> list[str]:
    faults = []
    for module, targets in sorted(loads_of.items()):
        folder = module.split("/")[0] if "/" in module else None
        allowed = JS_MAY_LOAD.get(folder, set())
        faults += [f"{module} loads {target}" for target in sorted(targets)
                   if target.split("/")[0] not in allowed or not (WEB_DIR / target).exists()]
    return faults


WEB_DIR = SRC / "pocketvision" / "web"


def _js_loads() -> dict[str, set[str]]:
    from js_imports import loads, modules

    return {module: loads(module) for module in modules()}


def test_every_javascript_module_sits_in_a_folder_that_says_what_it_is():
    from js_imports import modules

    assert {m.split("/")[0] for m in modules() if "/" in m} == set(JS_MAY_LOAD)
    assert [m for m in modules() if "/" not in m] == []  # one app: the desktop studio is app/ too


def test_the_recipe_loads_nothing_outside_itself_and_the_app_only_the_recipe():
    assert js_faults(_js_loads()) == []


@pytest.mark.parametrize("planted", ["recipe/head.js loads ../app/ui.js",
                                     "recipe/split.js loads ../vendor/onnxruntime-web/ort.wasm.min.mjs",
                                     "app/store.js loads ../client/pocketvision-onnx.js",
                                     "app/ui.js loads ./gone.js"])
def test_the_javascript_check_finds_each_kind_of_fault(planted):
    from js_imports import loads

    module, target = planted.split(" loads ")
    found = _js_loads()
    found[module] = loads(module, f'import {{ x }} from "{target}";\n')
    assert len(js_faults(found)) == 1


def test_every_test_file_the_code_cites_exists():
    """Comments send a reader to the test that pins a behaviour; a moved test file
    must not leave them pointing nowhere."""
    import re

    cited = {(path.relative_to(ROOT).as_posix(), name)
             for path in [*SRC.rglob("*.py"), *SRC.rglob("*.js"), ROOT / ".ci" / "run",
                          *(ROOT / "docs").rglob("*.md")]
             if "vendor" not in path.parts
             for name in re.findall(r"\btests/[\w/]+\.py\b", path.read_text())}
    assert cited and [f"{where} cites {name}" for where, name in sorted(cited)
                      if not (ROOT / name).is_file()] == []
