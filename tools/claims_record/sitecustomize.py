"""Loaded by notebook kernels that `tools/sweep.py --record DIR` starts (never by the course or the suite).

Every claim a notebook checks is appended, with the SEED and its numbers, to DIR/<notebook>.jsonl, and a failing
claim no longer stops the notebook: one run per seed then shows every claim's numbers, which is what choosing an
honest threshold needs. Verdicts are not changed: the records say which claims failed.
"""
import json
import os

_DIR = os.environ.get("COURSE_CLAIMS_RECORD")
if _DIR:
    import course_lib.claims as _claims

    _check = _claims.Claims.check

    def _record(self, sentence, ok, **numbers):
        try:
            from IPython import get_ipython

            seed = get_ipython().user_ns.get("SEED")
        except Exception:  # not in a kernel
            seed = None
        with open(os.path.join(_DIR, f"{self.notebook}.jsonl"), "a") as fh:
            fh.write(json.dumps({"seed": seed, "sentence": sentence, "ok": bool(ok),
                                 "numbers": {k: _claims._plain(v) for k, v in numbers.items()}}, default=str) + "\n")
        try:
            return _check(self, sentence, ok, **numbers)
        except _claims.ClaimError:
            return False

    _claims.Claims.check = _record
    _claims.Claims.verify = lambda self: print(f"claims checked: {self.passed}/{len(self.items)} (recording)")
