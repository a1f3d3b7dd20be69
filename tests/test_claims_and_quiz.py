"""The notebook template's library pieces: the claims helper and the check-yourself quiz."""
import json

import numpy as np
import pytest
import torch

from course_lib.claims import ClaimError, Claims
from course_lib.ui.quiz import Quiz, quiz


def test_a_claim_that_holds_is_recorded_with_its_numbers(capsys):
    c = Claims("nb")
    assert c.check("KD beats scratch by more than 1 point", np.float64(0.02) > 0.01, gain=np.float64(0.02),
                   accs=torch.tensor([0.9, 0.95]))
    c.verify()
    assert capsys.readouterr().out.strip() == "claims checked: 1/1"
    (sentence, numbers, verdict), = c.rows()
    assert verdict == "held" and "gain = 0.02" in numbers and "accs = [0.9, 0.95]" in numbers
    assert "KD beats scratch" in c._repr_html_() and "&#10003;" in c._repr_html_()


def test_a_failing_claim_stops_at_once_and_names_its_numbers():
    c = Claims("nb")
    with pytest.raises(ClaimError, match=r"claim failed: T=4 beats T=1 \(gap=-0\.003\)"):
        c.check("T=4 beats T=1", False, gap=-0.003)
    with pytest.raises(ClaimError, match="1 claim\\(s\\) failed"):
        c.verify()
    assert isinstance(ClaimError("x"), AssertionError)  # papermill reports it like an assert


def test_no_claims_is_not_a_pass_and_sentences_must_be_text():
    with pytest.raises(ClaimError, match="no claims were checked"):
        Claims("nb").verify()
    with pytest.raises(ValueError, match="sentence must be a non-empty string"):
        Claims("nb").check("", True)


def test_rechecking_a_sentence_replaces_it_and_claims_are_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CLAIMS_DIR", str(tmp_path))
    c = Claims("ch9_99")
    c.check("a holds", True, x=1)
    c.check("a holds", True, x=2)
    assert len(c) == 1
    saved = json.loads((tmp_path / "ch9_99.json").read_text())
    assert saved == {"notebook": "ch9_99", "claims": [{"sentence": "a holds", "ok": True, "numbers": {"x": 2}}]}


def test_quiz_explains_each_option_and_accepts_only_a_right_answer():
    q = quiz("What does raising T do to the entropy?", [
        ("It rises.", True, "Dividing the logits by T shrinks their gaps."),
        ("It falls.", False, "That is what lowering T does."),
    ])
    assert q.choose(1).startswith("wrong: That is what lowering T does.")
    assert "not quite" in q.feedback.value
    assert q.choose(0).startswith("correct:") and "Correct." in q.feedback.value
    assert q.correct == [0]


def test_quiz_with_several_right_answers_and_bad_specs():
    q = Quiz("Which are lossless?", [("Huffman", True, "a"), ("k-means", False, "b"), ("CSR", True, "c")],
             multiple=True)
    assert q.choose(0).startswith("wrong:") and "not picked yet" in q.feedback.value
    assert q.choose(0, 2).startswith("correct:")
    with pytest.raises(ValueError, match="exactly one correct answer"):
        Quiz("q", [("a", True, "x"), ("b", True, "y")])
    with pytest.raises(ValueError, match="at least 2"):
        Quiz("q", [("a", True, "x")])
    with pytest.raises(ValueError, match="needs an explanation"):
        Quiz("q", [("a", True, ""), ("b", False, "y")])
    with pytest.raises(ValueError, match=r"option index must be in 0\.\.1"):
        quiz("q", [("a", True, "x"), ("b", False, "y")]).choose(5)
