"""The claims a notebook makes in prose, asserted on the numbers it has just computed.

    claims = Claims()
    claims.check("KD at T=4 beats scratch by more than 1 point on average",
                 gain.mean() > 0.01, gain=gain.mean())
    ...
    claims.table()     # one summary table: each sentence, its numbers, and whether it held
    claims.verify()    # prints "claims checked: N/N" (the notebook's stored nbval output)

``check`` raises :class:`ClaimError` (an AssertionError) at once, naming the
sentence and the numbers behind it, so a failing claim stops the notebook in
the cell that makes it. A claim's test should be as strong as its sentence.
When the environment variable ``COURSE_CLAIMS_DIR`` is set, every recorded
claim is also written to ``<dir>/<notebook>.json`` (for the instructor's kit).
"""
from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path


class ClaimError(AssertionError):
    """A claim the notebook makes did not hold on the numbers it computed."""


def _plain(v):
    """A JSON-able, printable version of a number, tensor or array."""
    try:
        import numpy as np
        import torch
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu().numpy()
        if isinstance(v, np.ndarray):
            return v.item() if v.size == 1 else [_plain(x) for x in v.tolist()]
        if isinstance(v, np.generic):
            return v.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return v


def _fmt(v) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.4g}"
    if isinstance(v, list):
        inner = ", ".join(_fmt(x) for x in v[:8])
        return f"[{inner}{', ...' if len(v) > 8 else ''}]"
    return str(v)


@dataclass
class Claim:
    sentence: str
    ok: bool
    numbers: dict = field(default_factory=dict)


class Claims:
    """Records, asserts and summarises a notebook's claims."""

    def __init__(self, notebook: str | None = None):
        self.notebook = notebook or os.environ.get("COURSE_NOTEBOOK") or "notebook"
        self.items: list[Claim] = []

    def check(self, sentence: str, ok, **numbers) -> bool:
        """Record ``sentence`` with the ``numbers`` behind it; raise ClaimError unless ``ok``."""
        if not isinstance(sentence, str) or not sentence.strip():
            raise ValueError(f"sentence must be a non-empty string, got {sentence!r}")
        ok = bool(ok)
        numbers = {k: _plain(v) for k, v in numbers.items()}
        claim = Claim(sentence.strip(), ok, numbers)
        self.items = [c for c in self.items if c.sentence != claim.sentence] + [claim]
        self._save()
        if not ok:
            detail = ", ".join(f"{k}={_fmt(v)}" for k, v in numbers.items())
            raise ClaimError(f"claim failed: {claim.sentence}" + (f" ({detail})" if detail else ""))
        return True

    def __len__(self):
        return len(self.items)

    @property
    def passed(self) -> int:
        return sum(c.ok for c in self.items)

    def verify(self) -> None:
        """Assert every claim held, then print one stable line (the notebook's nbval check)."""
        failed = [c.sentence for c in self.items if not c.ok]
        if failed:
            raise ClaimError(f"{len(failed)} claim(s) failed: {failed}")
        if not self.items:
            raise ClaimError("no claims were checked")
        print(f"claims checked: {self.passed}/{len(self.items)}")

    def rows(self) -> list[tuple[str, str, str]]:
        return [(c.sentence, ", ".join(f"{k} = {_fmt(v)}" for k, v in c.numbers.items()),
                 "held" if c.ok else "FAILED") for c in self.items]

    def _repr_html_(self):
        cells = "".join(
            f"<tr><td style='text-align:left'>{html.escape(s)}</td><td style='text-align:left'>{html.escape(n)}</td>"
            f"<td>{'&#10003; ' if r == 'held' else '&#10007; '}{r}</td></tr>" for s, n, r in self.rows())
        return ("<table><thead><tr><th style='text-align:left'>claim</th><th style='text-align:left'>"
                "measured</th><th>verdict</th></tr></thead><tbody>" + cells + "</tbody></table>")

    def __repr__(self):
        return "\n".join(f"[{r}] {s}" + (f"  ({n})" if n else "") for s, n, r in self.rows())

    def table(self):
        """Display the summary table (HTML in Jupyter, text elsewhere)."""
        try:
            from IPython.display import display
            display(self)
        except ImportError:  # pragma: no cover
            print(repr(self))

    def to_dict(self) -> dict:
        return {"notebook": self.notebook,
                "claims": [{"sentence": c.sentence, "ok": c.ok, "numbers": c.numbers} for c in self.items]}

    def _save(self):
        out = os.environ.get("COURSE_CLAIMS_DIR")
        if not out:
            return
        path = Path(out) / f"{self.notebook}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.to_dict(), indent=1, default=str))
        os.replace(tmp, path)
