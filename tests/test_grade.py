"""The grader: solutions score full marks, untouched exercises zero with each stub's message,
and a broken notebook still gets a score and readable messages (never a crash)."""
import ast
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from notebook_runner import ROOT

from course_lib.grade import grade
from course_lib.grading import EXERCISES

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def _source(path):
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def _stub_messages(path):
    """The messages of every `raise NotImplementedError("...")` in the notebook, in order."""
    out = []
    for node in ast.walk(ast.parse(_source(path))):
        if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                and getattr(node.exc.func, "id", "") == "NotImplementedError"):
            out.append((node.lineno, node.exc.args[0].value))
    return [m for _, m in sorted(out)]


def _hids(path):
    return re.findall(r"check\(\"(H\d+)\"", _source(path))


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_notebook_scores_full_marks(path):
    proc = subprocess.run([sys.executable, "-m", "course_lib.grade", str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)
    lines = proc.stdout.strip().splitlines()
    n = len(_hids(path))
    assert n >= 3
    assert lines[-1] == f"score: {n}/{n}", proc.stdout + proc.stderr
    assert proc.returncode == 0
    assert not any(line.startswith("note:") for line in lines), proc.stdout


@pytest.mark.parametrize("path", [ROOT / "exercises" / p.name for p in SOLUTIONS], ids=lambda p: p.name)
def test_untouched_exercise_scores_zero_with_each_stub_message(path):
    report = grade(path)
    hids = _hids(path)
    assert [i.hid for i in report.items] == hids
    assert (report.score, report.total) == (0, len(hids))
    stubs = _stub_messages(path)
    for item in report.items:
        first_stub = next(m for m in stubs if m.startswith(f"{item.hid}: "))
        assert item.message == f"not done yet - {first_stub}", item.line()
        assert item.line().startswith(f"[fix]  {item.hid} {EXERCISES[item.hid].title}: not done yet - ")


def _edit(nb, marker, new_source):
    """Replace the code cell containing ``marker`` (a function definition)."""
    for cell in nb.cells:
        if cell.cell_type == "code" and marker in cell.source:
            cell.source = new_source
            return
    raise AssertionError(marker)


def test_broken_learner_notebook_gets_a_score_and_messages(tmp_path):
    src = ROOT / "exercises" / "ch5_01_distillation_exercises.ipynb"
    nb = nbformat.read(src, as_version=4)
    _edit(nb, "def softmax_t", "def softmax_t(logits, T=1.0):\n    while True:\n        pass\n\n"
                               "def entropy(probs):\n    return probs")
    _edit(nb, "def fit_power_law", "def fit_power_law(x, y)\n    return 1, 2")  # missing colon
    _edit(nb, "def rkd_distance_loss", "def rkd_distance_loss(s, t):\n    return 1 / 0")
    _edit(nb, "def lwf_loss", "import torch.nn.functional as F\n\ndef lwf_loss(new, y, old, rec, *, T=2.0, lam=1.0):\n"
                              "    kd = F.kl_div(F.log_softmax(old / T, -1), F.softmax(rec / T, -1),\n"
                              "                  reduction='batchmean') * T * T\n"
                              "    return F.cross_entropy(new, y) + lam * kd")
    # a cell that never ends, before the last exercise
    idx = next(i for i, c in enumerate(nb.cells) if "def lwf_loss" in c.source)
    nb.cells.insert(idx, nbformat.v4.new_code_cell("while True:\n    pass"))
    path = tmp_path / src.name
    nbformat.write(nb, path)
    report = grade(path, cell_timeout=8, check_timeout=2)
    by_hid = {i.hid: i for i in report.items}
    assert (report.score, report.total) == (1, 5), "\n".join(report.lines())
    assert by_hid["H13"].passed
    assert "stopped after 2 s" in by_hid["H1"].message
    assert by_hid["H2"].message.startswith("not done yet - H2:")
    assert "`fit_power_law` is not defined" in by_hid["H11"].message
    assert "raised ZeroDivisionError" in by_hid["H12"].message
    notes = "\n".join(report.notes)
    assert "SyntaxError" in notes and "stopped after 8 s" in notes, notes
    assert report.lines()[-1] == "score: 1/5"


def test_unreadable_and_gutted_notebooks(tmp_path):
    bad = tmp_path / "ch5_02_compression_exercises.ipynb"
    bad.write_text("{ this is not json")
    report = grade(bad)
    assert (report.score, report.total) == (0, 5)
    assert "could not read the notebook" in report.notes[0]
    assert all(i.message == "not graded: the notebook could not be read" for i in report.items)

    gutted = tmp_path / "ch5_03_reliability_exercises.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# my notes"), nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, gutted)
    proc = subprocess.run([sys.executable, "-m", "course_lib.grade", str(gutted)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 1
    assert proc.stdout.strip().splitlines()[-1] == "score: 0/3", proc.stdout + proc.stderr
    assert proc.stdout.count("its check cell is missing") == 3

    missing = tmp_path / "nowhere.ipynb"
    report = grade(missing)
    assert report.total == 0 and "could not read" in report.notes[0]


def test_tampered_check_cell_is_not_passed(tmp_path):
    """Printing 'passed' by hand does not fool nbval: the stored verdict has to come from check()."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("from course_lib.grading import check\nimport numpy as np\n"
                                          "def fit_power_law(x, y):\n    return 0.0, 1.0"),
                nbformat.v4.new_code_cell('# NBVAL_CHECK_OUTPUT\ncheck("H11", globals())\nprint("extra")',
                                          execution_count=2,
                                          outputs=[nbformat.v4.new_output("stream", name="stdout",
                                                                          text="H11 fitting T against batch size: "
                                                                               "passed\n")])]
    path = tmp_path / "mine.ipynb"
    nbformat.write(nb, path)
    report = grade(path)
    assert (report.score, report.total) == (0, 1)
    assert report.items[0].message.startswith("exponent 0.0000, expected")
