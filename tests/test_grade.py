"""The grader: what decides a grade comes from the course, never from the learner's file.

Kernel-starting tests are few: one fixture grades a folder of submissions once (two at a time) and
the tests below read its reports; everything else is tested without a kernel."""
import ast
import csv
import re
import shutil
import subprocess
import sys
import time

import nbformat
import pytest

from notebook_runner import GRADED_SOLUTIONS, ROOT

from course_lib import grade as G
from course_lib.grading import EXERCISES

CHECK = "# NBVAL_CHECK_OUTPUT"
# The broken submission has a cell that never ends, so the whole fixture waits this long once. The slowest honest
# cell (the capstone's training) takes a few seconds alone, about 10 s on a loaded two-core runner: 30 s leaves room.
CELL_TIMEOUT = 30


def _read(name, folder="exercises"):
    return nbformat.read(ROOT / folder / name, as_version=4)


def _cell(nb, marker):
    return next(c for c in nb.cells if c.cell_type == "code" and marker in c.source)


def _check_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(CHECK)]


def _stub_messages(nb):
    src = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    out = []
    for node in ast.walk(ast.parse(src)):
        if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                and getattr(node.exc.func, "id", "") == "NotImplementedError"):
            out.append((node.lineno, node.exc.args[0].value))
    return [m for _, m in sorted(out)]


def _with_stored_verdicts(nb, solution):
    """What a learner's file looks like after 'run all' with the old exercise notebooks: 'passed' everywhere."""
    for c, s in zip(_check_cells(nb), _check_cells(solution)):
        c.outputs, c.execution_count = s.outputs, s.execution_count
    return nb


# ------------------------------------------------------------------------------------ the submissions
def _untouched(folder):
    nb = _with_stored_verdicts(_read("ch5_02_compression_exercises.ipynb"),
                               _read("ch5_02_compression_exercises.ipynb", "solutions"))
    nbformat.write(nb, folder / "untouched_saved.ipynb")


def _tricks(folder):
    """A JupyterLab duplicate of ch5_01 with every shortcut of the issue, one per exercise."""
    nb = _with_stored_verdicts(_read("ch5_01_distillation_exercises.ipynb"),
                               _read("ch5_01_distillation_exercises.ipynb", "solutions"))
    # H1: `check` redefined in an earlier cell to print the verdict (the check cell imports it afresh)
    _cell(nb, "from course_lib.grading import check, passed").source += (
        "\n\ndef check(hid, ns=None):\n    print('H1 softmax with temperature and entropy: passed')\n")
    # H2: the grading library's own `check` patched to print "passed" for H2, restored afterwards
    _cell(nb, "def distillation_loss").source += (
        "\n\nimport course_lib.grading as _g\n_real = _g.check\n"
        "def _fake(hid, ns=None, **kw):\n    print('H2 distillation loss: passed')\n_g.check = _fake\n")
    _cell(nb, "def fit_power_law").source = (
        "import course_lib.grading as _g\n_g.check = _real\n"  # restored: the library is intact again
        "from course_lib.grading.distill import _fit_power_law as fit_power_law\n")  # H11: the reference itself
    _cell(nb, "def rkd_distance_loss").source = (  # H12: a wrapper around the reference
        "import course_lib.grading.distill as _d\n\ndef rkd_distance_loss(s, t):\n"
        "    return _d._rkd_distance_loss(s, t)\n")
    _cell(nb, 'check("H13"').source = (  # H13: check commented out, verdict printed by hand
        f'{CHECK}\n# check("H13", globals())\nprint("H13 learning-without-forgetting loss: passed")')
    nbformat.write(nb, folder / "ch5_01_distillation_exercises-Copy1.ipynb")


def _duplicate_and_dead(folder):
    """ch5_03 solved, metadata stripped (found by hash), H9's check cell deleted, outputs cleared, a cell
    that kills the kernel before H10."""
    nb = _read("ch5_03_reliability_exercises.ipynb", "solutions")
    nb.metadata.pop("course_exercise")
    nb.cells = [c for c in nb.cells if 'check("H9"' not in c.source]
    i = next(i for i, c in enumerate(nb.cells) if 'check("H10"' in c.source)
    nb.cells.insert(i, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None  # "Clear all outputs"
    nbformat.write(nb, folder / "my_reliability.ipynb")


def _broken(folder):
    nb = _read("ch5_01_distillation_exercises.ipynb")
    _cell(nb, "def softmax_t").source = ("def softmax_t(logits, T=1.0):\n    while True:\n        pass\n\n"
                                         "def entropy(probs):\n    return probs")
    _cell(nb, "def fit_power_law").source = "def fit_power_law(x, y)\n    return 1, 2"  # missing colon
    _cell(nb, "def rkd_distance_loss").source = "def rkd_distance_loss(s, t):\n    return 1 / 0"
    _cell(nb, "def lwf_loss").source = (  # a correct answer written differently (soft cross-entropy)
        "import torch.nn.functional as F\n\ndef lwf_loss(new, y, old, rec, *, T=2.0, lam=1.0):\n"
        "    p = F.softmax(rec / T, -1)\n    soft_ce = -(p * F.log_softmax(old / T, -1)).sum(-1).mean()\n"
        "    return F.cross_entropy(new, y) + lam * T * T * soft_ce")
    i = next(i for i, c in enumerate(nb.cells) if "def lwf_loss" in c.source)
    # a cell that never ends; it sleeps rather than spins, so the wait costs the other test worker no CPU (a spinning
    # loop is what softmax_t above does, stopped by the check timeout)
    nb.cells.insert(i, nbformat.v4.new_code_cell("import time\n\nwhile True:\n    time.sleep(0.2)"))
    nbformat.write(nb, folder / "broken.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for name, solution in GRADED_SOLUTIONS.items():  # full marks required below
        shutil.copy(ROOT / "solutions" / f"{solution}.ipynb", folder / f"{name}.ipynb")
    for make in (_untouched, _tricks, _duplicate_and_dead, _broken):
        make(folder)
    (folder / "not_json.ipynb").write_text("{ this is not json")
    csv_path = folder.parent / f"{folder.name}_grades.csv"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "course_lib.grade", str(folder), "--csv", str(csv_path),
                           "--jobs", "2", "--cell-timeout", str(CELL_TIMEOUT), "--check-timeout", "2"],
                          capture_output=True, text=True, cwd=ROOT, timeout=1500)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    feedback = {p.stem: p.read_text() for p in (folder.parent / f"{folder.name}_grades_feedback").glob("*.txt")}
    with open(csv_path, newline="") as fh:
        rows = {r["file"]: r for r in csv.DictReader(fh)}
    return dict(rows=rows, feedback=feedback, stdout=proc.stdout, seconds=seconds)


def _lines(graded, stem):
    return {m.group(1): m.group(2) for m in re.finditer(r"^\[(?:pass|fix)\]\s+(H\d+) [^:]+: (.*)$",
                                                          graded["feedback"][stem], re.M)}


def test_solution_scores_full_marks(graded):
    fb = graded["feedback"]["solved"]
    assert "score: 5/5" in fb and "full marks" in fb and "note:" not in fb, fb
    assert graded["rows"]["solved.ipynb"]["total"] == "5"


def test_untouched_saved_notebook_scores_zero_with_each_stub_message(graded):
    fb, lines = graded["feedback"]["untouched_saved"], _lines(graded, "untouched_saved")
    assert "score: 0/5" in fb and "below full marks" in fb, fb
    stubs = _stub_messages(_read("ch5_02_compression_exercises.ipynb"))
    for hid, msg in lines.items():
        assert msg == "not done yet - " + next(m for m in stubs if m.startswith(f"{hid}: ")), msg


def test_shortcuts_earn_nothing(graded):
    fb, lines = graded["feedback"]["ch5_01_distillation_exercises-Copy1"], \
        _lines(graded, "ch5_01_distillation_exercises-Copy1")
    assert "score: 0/5" in fb, fb
    assert lines["H1"].startswith("not done yet - H1:")  # the redefined check never ran
    assert "did not come from the course's checker" in lines["H2"]  # patched library check
    assert "course's reference implementation" in lines["H11"]  # the reference passed back
    assert "runs the course's reference implementation" in lines["H12"]  # wrapped
    assert lines["H13"].startswith("its check cell was changed")  # commented out, printed by hand


def test_found_by_hash_deleted_check_reported_dead_kernel_at_once(graded):
    fb, lines = graded["feedback"]["my_reliability"], _lines(graded, "my_reliability")
    assert "(course notebook ch5_03_reliability_exercises)" in fb
    assert lines["H8"] == "passed"  # cleared outputs do not matter: the course's verdicts are used
    assert lines["H9"].startswith("its check cell is missing")
    assert lines["H10"].startswith("not run: the kernel died")
    assert "killed the kernel" in fb
    assert "Timeout" not in fb and "stopped after" not in fb
    assert graded["rows"]["my_reliability.ipynb"]["total"] == "1"


def test_broken_notebook_gets_a_score_and_one_line_each(graded):
    lines, fb = _lines(graded, "broken"), graded["feedback"]["broken"]
    assert "stopped after 2 s" in lines["H1"]
    assert lines["H2"].startswith("not done yet - H2:")
    assert "`fit_power_law` is not defined" in lines["H11"]
    assert "raised ZeroDivisionError" in lines["H12"]
    assert lines["H13"] == "passed"  # soft cross-entropy instead of KL: accepted
    assert "SyntaxError" in fb and f"stopped after {CELL_TIMEOUT} s" in fb
    assert "score: 1/5" in fb


def test_class_csv_has_one_row_per_learner(graded):
    rows = graded["rows"]
    assert set(rows) == {"solved.ipynb", "untouched_saved.ipynb", "ch5_01_distillation_exercises-Copy1.ipynb",
                         "my_reliability.ipynb", "broken.ipynb", "not_json.ipynb", "capstone_entry.ipynb"}
    head = list(next(iter(rows.values())))
    assert head[:2] == ["file", "notebook"] and head[head.index("total") + 1] == "max"
    assert head[-3:] == ["capstone_size_bytes", "capstone_accuracy", "capstone_rank"]
    assert [h for h in head if h.startswith("H")] == sorted((h for h in head if h.startswith("H")),
                                                            key=lambda h: int(h[1:]))
    assert rows["broken.ipynb"]["H13"] == "1" and rows["broken.ipynb"]["H1"] == "0"
    assert rows["my_reliability.ipynb"]["H1"] == ""  # not this learner's notebook
    assert rows["not_json.ipynb"]["total"] == "0" and "could not read" in graded["feedback"]["not_json"]
    print(f"graded {len(rows)} notebooks in {graded['seconds']:.0f} s")


def test_capstone_entry_is_measured_by_the_grader_and_ranked(graded):
    row, fb = graded["rows"]["capstone_entry.ipynb"], graded["feedback"]["capstone_entry"]
    assert row["CAP"] == "1" and row["capstone_rank"] == "1", row
    size, acc = int(row["capstone_size_bytes"]), float(row["capstone_accuracy"])
    assert size <= 2000 and acc > 0.9, row
    assert f"{size} bytes (budget 2000)" in fb and "held-out accuracy" in fb
    assert graded["rows"]["solved.ipynb"]["capstone_rank"] == ""  # not a capstone entry


# ------------------------------------------------------------------------------------ without a kernel
def _course():
    return G.catalogue()


def test_exercise_notebooks_show_no_verdict_and_carry_their_id():
    for path in sorted((ROOT / "exercises").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")
        meta = nb.metadata["course_exercise"]
        assert meta["id"] == path.stem and meta["checks"]


def test_build_copy_takes_checks_and_verdicts_from_the_course(tmp_path):
    course = _course()
    entry = course["ch5_01_distillation_exercises"]
    nb = _read("ch5_01_distillation_exercises.ipynb")
    nb.cells[5].outputs = [nbformat.v4.new_output("stream", name="stdout", text="anything\n")]
    _cell(nb, 'check("H2"').source += "\n"  # an editor's trailing newline is fine
    _cell(nb, 'check("H11"').source = _cell(nb, 'check("H11"').source.replace("globals()", "dict(globals())")
    nb.cells = [c for c in nb.cells if 'check("H12"' not in c.source]
    nb.cells.append(nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nx = 1"))
    copy, placed, problems, learner = G.build_copy(nb, entry, tmp_path)
    assert problems == {"H11": "changed", "H12": "missing"}
    assert sorted(placed) == ["H1", "H13", "H2"]
    assert "_arm()" in copy.cells[0].source and str(tmp_path) in copy.cells[0].source
    for hid, n in placed.items():
        c = copy.cells[n]
        want = next(k for k in entry.checks if k.hid == hid)
        assert c.source == want.source and c.outputs[0]["text"] == f"{hid} {EXERCISES[hid].title}: passed\n"
    for n in learner:
        assert copy.cells[n].outputs == [] and "NBVAL_" not in copy.cells[n].source.replace("removed NBVAL", "")


def test_identified_by_metadata_or_hash_never_by_name():
    course = _course()
    nb = _read("ch5_02_compression_exercises.ipynb")
    assert G.identify(nb, course)[0].id == "ch5_02_compression_exercises"
    nb.metadata.pop("course_exercise")
    entry, how = G.identify(nb, course)
    assert entry.id == "ch5_02_compression_exercises" and how == "check-cell hashes"
    assert G.identify(nbformat.v4.new_notebook(), course)[0] is None


def test_records_need_the_run_secret(tmp_path):
    import hashlib
    import hmac
    key = b"k" * 32
    log = tmp_path / "log"

    def row(seq, hid, ok, line, k=key):
        fields = (str(seq), hid, str(ok), line)
        return "\t".join(fields) + "\t" + hmac.new(k, "\t".join(fields).encode(), hashlib.sha256).hexdigest()

    log.write_text("\n".join([row(1, "H1", 0, "H1 x: not yet"), row(2, "H1", 1, "H1 x: passed"),
                              row(3, "H2", 1, "H2 y: passed", k=b"guess"), "H3\t1\tH3 z: passed"]))
    assert G._records(log, key) == {"H1": (True, "H1 x: passed")}


def test_armed_checker_signs_refuses_references_and_notices_patches(tmp_path):
    keyfile, log = tmp_path / "key", tmp_path / "log"
    keyfile.write_bytes(b"s" * 32)
    code = (
        "import course_lib.grading as g, course_lib.grading._core as c\n"
        "assert c._arm()\n"
        "import os; assert not os.path.exists(%r) and 'COURSE_GRADE_KEYFILE' not in os.environ\n"
        "try:\n    g.reference('H11'); raise SystemExit('reference reachable')\nexcept RuntimeError: pass\n"
        "import numpy as np\n"
        "def fit(x, y):\n    k, b = np.polyfit(np.log(x), np.log(y), 1)\n    return k, np.exp(b)\n"
        "g.check('H11', fit_power_law=fit)\n"
        "from course_lib.grading.distill import _fit_power_law\n"
        "g.check('H11', fit_power_law=_fit_power_law)\n"
        "g.check('H11', fit_power_law=lambda x, y: _fit_power_law(x, y))\n"
        "import course_lib.grading.distill as d; d.call = lambda f, *a, **k: f(*a, **k)\n"
        "g.check('H11', fit_power_law=fit)\n" % str(keyfile))
    env = {"COURSE_GRADE_KEYFILE": str(keyfile), "COURSE_GRADE_LOG": str(log), "PYTHONPATH": str(ROOT),
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == "H11 fitting T against batch size: passed"
    assert "is the course's reference implementation" in out[1]
    assert "runs the course's reference implementation" in out[2]
    assert "grading library was modified" in out[3]
    rows = log.read_text().splitlines()
    assert [r.split("\t")[2] for r in rows] == ["1", "0", "0", "0"]
    assert G._records(log, b"s" * 32)["H11"][0] is False


def test_csv_ranks_capstone_by_accuracy_within_budget(tmp_path):
    reps = []
    for name, acc, size, ok in (("a", 0.90, 900, True), ("b", 0.95, 1200, False), ("c", 0.93, 1000, True)):
        r = G.Report(name, exercise="capstone")
        r.extra = dict(capstone=True, accuracy=acc, size_bytes=size, within_budget=ok)
        reps.append(r)
    G.write_csv(tmp_path / "g.csv", [tmp_path / f"{n}.ipynb" for n in "abc"], reps)
    rows = list(csv.DictReader(open(tmp_path / "g.csv")))
    assert [r["capstone_rank"] for r in rows] == ["2", "", "1"]


def test_exit_status_and_messages(tmp_path, capsys):
    assert G.main([str(tmp_path / "nowhere.ipynb")]) == 2
    out = capsys.readouterr().out
    assert "could not read the notebook" in out and "score: 0/0" in out
    r = G.Report("x", items=[G.Item("H1", "t", True), G.Item("H2", "u", False, "fix it")])
    assert r.lines()[-2:] == ["score: 1/2", "below full marks (1 of 2): fix the [fix] lines above, save the "
                                            "notebook, and grade again"]
    assert "error" not in " ".join(r.lines()).lower()


# ------------------------------------------------------------------------------------ the capstone
def _mlp(widths, seed=0):
    import torch
    from torch import nn
    g = torch.Generator().manual_seed(seed)
    layers = []
    for a, b in zip(widths, widths[1:]):
        lin = nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(b, a, generator=g) * 0.3)
            lin.bias.copy_(torch.randn(b, generator=g) * 0.1)
        layers += [lin, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def test_capstone_size_is_counted_as_the_course_encoders_count_it():
    import torch
    from course_lib.compress import encode
    from course_lib.grading import capstone

    model = _mlp([64, 24, 10])
    for bits in (2, 4, 8):  # dense: bits packed + one float32 scale per row + float32 biases
        assert capstone.size_bytes(model, bits) == encode.packed_bytes(model, bits, scheme="per_channel")
    assert capstone.size_bytes(model, 32) == encode.dense_bytes(model)
    with torch.no_grad():  # 95% zeros: narrow CSR beats dense, counted as the course's csr_bytes
        for m in model:
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_((torch.rand(m.weight.shape, generator=torch.Generator().manual_seed(1)) < 0.05).float())
    assert capstone.size_bytes(model, 32) == encode.csr_bytes(model)
    spec = capstone.spec_of(model, 32)
    assert spec["layers"][0]["relu"] and not spec["layers"][1]["relu"]


def test_capstone_heldout_split_is_the_course_test_split_and_accuracy_is_measured_here():
    import torch
    from course_lib import data
    from course_lib.grading import capstone

    X, y = capstone.heldout()
    ds = data.load("digits", split_seed=0)
    assert torch.equal(X, ds.X_test) and torch.equal(y, ds.y_test)
    model = _mlp([64, 16, 10])
    m = capstone.measure(capstone.spec_of(model, 8))
    with torch.no_grad():
        q = capstone.quantized
        h = torch.relu(X.double() @ q(model[0].weight, 8)[0].T + model[0].bias.double())
        logits = h @ q(model[2].weight, 8)[0].T + model[2].bias.double()
    assert m["accuracy"] == float((logits.argmax(1) == y).double().mean())
    assert m["size_bytes"] == capstone.size_bytes(model, 8) and m["within_budget"] == (m["size_bytes"] <= 2000)


@pytest.mark.parametrize("bad, fragment", [
    (lambda: __import__("torch").nn.Sequential(__import__("torch").nn.Conv2d(1, 2, 3)), "only nn.Linear"),
    (lambda: _mlp([64, 10, 5]), "64 features to 10 logits"),
])
def test_capstone_refuses_what_it_cannot_measure(bad, fragment, capsys):
    from course_lib.grading import capstone
    capstone.submit(bad(), 8)
    assert fragment in capsys.readouterr().out
    with pytest.raises(ValueError, match="bits must be one of"):
        capstone.spec_of(_mlp([64, 10]), 9)
    with pytest.raises(ValueError, match="malformed"):
        capstone.measure({"layers": [{"weight": "x", "bits": 4}]})


# ------------------------------------------------------------------ a kernel that dies while starting
def _start_on(port=None):
    """A start_new_kernel whose shell port is ``port`` (taken: the kernel cannot bind it and exits)."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3", **({"shell_port": port, "cache_ports": False} if port else {}))
    km.start_kernel(stderr=subprocess.DEVNULL)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
    except RuntimeError:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        raise
    return km, kc


def test_a_kernel_whose_port_was_taken_is_started_again_on_new_ports():
    """The race CI met: a port chosen for the kernel is taken before the kernel binds it. jupyter_client's report
    of it is what ``kernel_start_failed`` recognises, and the retrying start then gets a working kernel."""
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    ports = []

    def start():
        ports.append(taken.getsockname()[1] if not ports else None)
        return _start_on(ports[-1])

    try:
        with pytest.raises(RuntimeError) as died:
            _start_on(taken.getsockname()[1])
        assert G.kernel_start_failed(died.value), str(died.value)
        km, kc = G.retry_kernel_start(start)()
    finally:
        taken.close()
    try:
        reply = kc.execute_interactive("6 * 7", timeout=60)
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert ports[0] is not None and ports[1:] == [None]  # failed once on the taken port, then started


def test_only_a_kernel_dying_while_starting_is_retried():
    calls = []

    def flaky(n_failures, message):
        def start():
            calls.append(message)
            if len(calls) <= n_failures:
                raise RuntimeError(message)
            return "kernel"
        return start

    assert G.retry_kernel_start(flaky(2, "Kernel died before replying to kernel_info"))() == "kernel"
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(RuntimeError, match="kernel_info"):  # never more than the attempts allowed
        G.retry_kernel_start(flaky(5, "Kernel died before replying to kernel_info"), attempts=3)()
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(RuntimeError, match="Kernel died: the Python process"):  # died in a cell: the learner's
        G.retry_kernel_start(flaky(1, "Kernel died: the Python process running the notebook exited"))()
    assert len(calls) == 1
    assert not G.kernel_start_failed(ValueError("before replying to kernel_info"))


def test_grader_runner_carries_the_retrying_start():
    ns = {}
    exec(compile(G._RUNNER.split("sys.exit(")[0].split("import nbval.kernel as _nbval_kernel")[1], "runner", "exec"),
         {"sys": sys, "_nbval_kernel": type("M", (), {"start_new_kernel": staticmethod(lambda: "kernel")})}, ns)
    assert ns["KERNEL_START_ATTEMPTS"] == G.KERNEL_START_ATTEMPTS and "retry_kernel_start" in ns
