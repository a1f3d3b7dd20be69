"""Repository hygiene: built notebooks match their sources, carry metadata, no bulky outputs."""
import json
import subprocess
import sys

from notebook_runner import ROOT, all_notebooks


def test_notebooks_match_sources():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build_notebooks.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


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
