"""Repository hygiene: built notebooks match their sources, carry metadata, no bulky outputs."""
import json
import subprocess
import sys

from notebook_runner import ROOT, all_notebooks


def test_notebooks_match_sources():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build_notebooks.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_instructor_kit_matches_the_notebooks():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "instructor_kit.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_instructor_kit_reads_questions_points_and_dashboards(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    import instructor_kit

    src = tmp_path / "ch9_01_x.py"
    src.write_text('# %% [header]\n# number = "9.1"\n# title = "T"\n# syllabus = ["D1"]\n# study_minutes = 20\n'
                   '# prerequisites = []\n# objectives = ["o"]\n\n# %% [markdown]\n# **Predict, then run.** Q?\n#\n'
                   '# <details><summary>Answer</summary>\n#\n# A.\n#\n# </details>\n\n# %%\n'
                   'from course_lib.labs.ch1 import temperature as lab\n\n# %% [markdown]\n# ## What we learned\n'
                   '# - first point,\n#   continued.\n# - second.\n')
    n = instructor_kit.parse(src)
    assert n["predictions"] == [("Q?", "A.")]
    assert n["learned"] == ["first point, continued.", "second."]
    assert n["labs"] == ["ch1.temperature"]


def test_notebook_metadata_and_outputs():
    for path in all_notebooks():
        nb = json.loads(path.read_text())
        assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", f"{path.name}: no python3 kernelspec"
        params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert params and "SEED" in "".join(params[0]["source"]), f"{path.name}: needs a `parameters` cell defining SEED"
        assert nb["cells"][0]["cell_type"] == "markdown", f"{path.name}: should open with prose"
        for c in nb["cells"]:
            if c["cell_type"] == "code" and "NBVAL_CHECK_OUTPUT" not in "".join(c["source"]):
                assert not c.get("outputs"), f"{path.name}: commit notebooks without outputs (except nbval check cells)"
        assert path.stat().st_size < 200_000, f"{path.name} is {path.stat().st_size} bytes; strip outputs"
