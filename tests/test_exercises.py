"""The exercise notebooks are generated from the solutions, and both are well formed."""
import ast
import json
import re
import subprocess
import sys

import nbformat
import pytest

from notebook_runner import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import make_exercises  # noqa: E402

from course_lib.grading import EXERCISES  # noqa: E402

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
ALL_HIDS = [f"H{i}" for i in range(1, 24)]


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_committed_exercises_match_the_generator():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_solutions_store_exactly_the_expected_verdicts():
    for path in SOLUTIONS:
        nb = nbformat.read(path, as_version=4)
        expected = make_exercises.render(make_exercises.expected_verdicts(nbformat.read(path, as_version=4),
                                                                            path.name))
        assert path.read_text(encoding="utf-8") == expected, f"{path.name}: run tools/make_exercises.py --store-outputs"
        assert nb.cells  # readable


def test_every_exercise_is_checked_exactly_once():
    seen = []
    for path in SOLUTIONS:
        for cell in _code(nbformat.read(path, as_version=4)):
            if make_exercises.is_check_cell(cell):
                seen += make_exercises.CHECK_CALL.findall(cell.source)
    assert sorted(seen, key=lambda h: int(h[1:])) == ALL_HIDS


def test_exercises_hide_solutions_and_verdicts():
    for sol_path in SOLUTIONS:
        sol = nbformat.read(sol_path, as_version=4)
        ex = nbformat.read(ROOT / "exercises" / sol_path.name, as_version=4)
        text = (ROOT / "exercises" / sol_path.name).read_text()
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text and "SOLUTION ONLY" not in text
        sol_checks = [c for c in _code(sol) if make_exercises.is_check_cell(c)]
        ex_checks = [c for c in _code(ex) if make_exercises.is_check_cell(c)]
        assert [c.source for c in ex_checks] == [c.source for c in sol_checks]
        for c in sol_checks:  # the solution keeps the expected verdict the grader compares with
            hids = make_exercises.CHECK_CALL.findall(c.source)
            if not hids:  # the capstone's submission cell
                from course_lib.grading.capstone import SUBMITTED
                assert "submit(" in c.source and c.outputs[0]["text"] == SUBMITTED + "\n"
                continue
            hid = hids[0]
            assert c.outputs[0]["text"] == f"{hid} {EXERCISES[hid].title}: passed\n"
            assert c.execution_count is not None
            assert "from course_lib.grading import check" in c.source  # the checker is imported afresh
        for c in _code(ex):  # a fresh exercise shows no verdict and no output at all
            assert c.outputs == [] and c.execution_count is None
            ast.parse(c.source)  # every generated cell is valid Python
        assert ex.metadata["course_exercise"] == sol.metadata["course_exercise"]
        assert ex.metadata["course_exercise"]["id"] == sol_path.stem
        hids = {h for c in ex_checks for h in make_exercises.CHECK_CALL.findall(c.source)}
        assert set(ex.metadata["course_exercise"]["checks"]) == hids or (
            ex.metadata["course_exercise"]["kind"] == "capstone" and set(ex.metadata["course_exercise"]["checks"])
            == {"CAP"})
        for hid in hids:  # every exercise has at least one stub naming it
            assert re.search(rf"raise NotImplementedError\('{hid}: .+'\)", text), f"{sol_path.name}: no stub for {hid}"


def test_strip_solutions_keeps_indentation_and_hint():
    src = "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION H7: use the SVD\n    return x\n    ### END SOLUTION\n\ny = 1"
    out = make_exercises.strip_solutions(src)
    assert out == "def f(x):\n    '''doc'''\n    raise NotImplementedError('H7: use the SVD')\n\ny = 1"
    ns = {}
    exec(out, ns)
    with pytest.raises(NotImplementedError, match="H7: use the SVD"):
        ns["f"](1)


@pytest.mark.parametrize("bad, message", [
    ("    ### BEGIN SOLUTION H1: a\n    x = 1\n", "never closed"),
    ("    x = 1\n    ### END SOLUTION\n", "without BEGIN"),
    ("    ### BEGIN SOLUTION H1: a\n    ### BEGIN SOLUTION H1: b\n    ### END SOLUTION\n", "inside another"),
    ("    ### BEGIN SOLUTION\n    x = 1\n", "malformed marker"),
])
def test_strip_solutions_rejects_broken_markers(bad, message):
    with pytest.raises(make_exercises.RegionError, match=message):
        make_exercises.strip_solutions(bad)


def test_solution_only_cells_are_dropped_and_outputs_cleared():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), nbformat.v4.new_markdown_cell("<!-- SOLUTION ONLY -->\nnote"),
                nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", name="stdout", text="1")],
                                          execution_count=3),
                nbformat.v4.new_code_cell('# NBVAL_CHECK_OUTPUT\ncheck("H1", globals())', execution_count=4,
                                          outputs=[nbformat.v4.new_output("stream", name="stdout", text="ok\n")])]
    ex = make_exercises.make_exercise(nb, "t")
    assert [c.cell_type for c in ex.cells] == ["markdown", "code", "code"]
    assert ex.cells[1].outputs == [] and ex.cells[1].execution_count is None
    assert ex.cells[2].outputs == [] and ex.cells[2].execution_count is None  # no verdict before a run
    assert ex.metadata["course_exercise"]["id"] == "t"
    assert json.loads(nbformat.writes(ex))  # still a valid notebook
