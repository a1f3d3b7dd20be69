"""The library's layout rules (course_lib/LAYOUT.md), read from the imports of every module."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "course_lib"
TOOLKIT = {"_checks", "seeding", "data", "models", "train", "cache", "metrics", "features", "latency", "claims"}
METHODS = {"distill", "compress", "reliability"}
ALLOWED = {  # layer -> layers it may import
    "toolkit": {"toolkit", "losses"},
    "losses": {"toolkit"},
    "methods": {"toolkit", "losses", "methods"},
    "ui": {"toolkit", "losses", "ui"},
    "labs": {"toolkit", "losses", "methods", "ui", "labs"},
    "grading": {"grading"},
    "root": {"toolkit"},
}
LAB_NAMES = ("setup", "run", "render", "summary", "dashboard")


def modules():
    for path in sorted(LIB.rglob("*.py")):
        parts = path.relative_to(LIB).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield path, parts


def layer(parts) -> str | None:
    if not parts:
        return "root"
    head = parts[0]
    if head in TOOLKIT:
        return "toolkit"
    if head == "losses":
        return "losses"
    if head in METHODS:
        return "methods"
    if head == "ui":
        return "ui"
    if head == "labs":
        return "labs"
    if head in ("grading", "grade"):
        return "grading"
    return None


def imported(path, parts):
    """(target module parts, line) for every course_lib import in ``path``."""
    tree = ast.parse(path.read_text())
    pkg = list(parts if path.name == "__init__.py" else parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
                mod = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "course_lib":
                mod = node.module.split(".")[1:]
            else:
                continue
            if node.module is None or (node.level and not node.module):
                for a in node.names:  # from . import x
                    yield tuple(mod + [a.name]), node.lineno
            else:
                yield tuple(mod), node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "course_lib":
                    yield tuple(a.name.split(".")[1:]), node.lineno


def test_every_module_has_a_home():
    homeless = ["/".join(p) for _, p in modules() if layer(p) is None]
    assert not homeless, f"modules outside the layout (see course_lib/LAYOUT.md): {homeless}"


def test_dependencies_point_down():
    broken = []
    for path, parts in modules():
        src = layer(parts)
        if src is None:
            continue
        for target, line in imported(path, parts):
            dst = layer(target)
            if dst is None:
                broken.append(f"{path.relative_to(ROOT)}:{line} imports unknown course_lib.{'.'.join(target)}")
                continue
            if src == "losses" and target[:1] == ("losses",) and parts[:2] == ("losses", "registry"):
                broken.append(f"{path.relative_to(ROOT)}:{line}: the loss registry must not import a loss family")
            if dst == src == "losses" or dst == src and src != "labs":
                continue
            if dst not in ALLOWED[src]:
                broken.append(f"{path.relative_to(ROOT)}:{line}: {src} must not import {dst} (course_lib.{'.'.join(target)})")
            if src == dst == "labs" and len(parts) > 1 and len(target) > 1 and target[1] != parts[1]:
                broken.append(f"{path.relative_to(ROOT)}:{line}: labs of {parts[1]} must not import labs of {target[1]}")
    assert not broken, "\n".join(broken)


def test_library_never_seeds_the_global_stream():
    offenders = []
    for path, parts in modules():
        if parts[:1] in (("grading",), ("seeding",)):
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if "torch.manual_seed(" in line or "np.random.seed(" in line or "random.seed(" in line.replace("np.random", ""):
                offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not offenders, "use seeding.generator(seed) or seeding.fork(seed):\n" + "\n".join(offenders)


def lab_modules():
    return [(p, parts) for p, parts in modules() if parts[:1] == ("labs",) and len(parts) == 3]


@pytest.mark.parametrize("path,parts", lab_modules(), ids=lambda v: "/".join(v) if isinstance(v, tuple) else "")
def test_every_lab_exposes_the_five_names(path, parts):
    tree = ast.parse(path.read_text())
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    defined |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    missing = [n for n in LAB_NAMES if n not in defined]
    assert not missing, f"{path.relative_to(ROOT)} lacks {missing} (see course_lib/LAYOUT.md)"


def test_rules_catch_a_violation(tmp_path):
    """The checker itself: a ui module importing a method package is reported."""
    fake = tmp_path / "x.py"
    fake.write_text("from ..compress import prune\nfrom course_lib.labs.ch1 import temperature\n")
    found = list(imported(fake, ("ui", "x")))
    assert (("compress",), 1) in found and (("labs", "ch1"), 2) in found
    assert layer(("compress",)) == "methods" and layer(("labs", "ch1")) == "labs"
    assert "methods" not in ALLOWED["ui"] and "labs" not in ALLOWED["methods"]
