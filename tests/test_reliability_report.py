import numpy as np
import pytest

from course_lib.reliability import report


def test_distilbert_numbers():
    d = report.DISTILBERT
    r = report.distilbert_style(d["teacher_params"], d["student_params"], d["teacher_seconds"], d["student_seconds"],
                                d["teacher_score"], d["student_score"])
    assert r["smaller"] == pytest.approx(0.40) and r["faster"] == pytest.approx(668 / 410 - 1)
    assert r["kept"] == pytest.approx(77.0 / 79.5)
    assert report.describe(r) == "40% smaller, 63% faster, 97% of the teacher's score kept"


def test_describe_slower_and_larger():
    assert report.describe({"smaller": -0.5, "faster": 1 / 1.27 - 1, "kept": 1.0}).startswith("50% larger, 27% slower")
    assert "18x slower" in report.describe({"smaller": 0.1, "faster": 1 / 18 - 1, "kept": 1.0})
    with pytest.raises(ValueError, match="kept"):
        report.describe({"smaller": 0.1, "faster": 0.1})


def test_distilbert_style_bad_input():
    with pytest.raises(ValueError, match="student_seconds"):
        report.distilbert_style(1, 1, 1, 0, 1, 1)
    with pytest.raises(ValueError, match="teacher_score"):
        report.distilbert_style(1, 1, 1, 1, 0, 1)


def test_paired_speedups():
    sp = report.paired_speedups([2.0, 4.0], [1.0, 1.0])
    assert sp.tolist() == [2.0, 4.0]
    with pytest.raises(ValueError, match="same non-zero length"):
        report.paired_speedups([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="> 0"):
        report.paired_speedups([1.0], [0.0])


def test_pareto_mask():
    sizes, scores = [1, 2, 3, 2], [0.5, 0.9, 0.8, 0.9]
    assert report.pareto_mask(sizes, scores).tolist() == [True, True, False, True]
    with pytest.raises(ValueError, match="same length"):
        report.pareto_mask([1, 2], [1.0])
