"""Registry of exercise checks, and the safe way to run a learner's code.

A check is a function ``check_fn(funcs) -> None`` registered with
:func:`register`; ``funcs`` maps the names the exercise asks for to the
learner's callables. It raises :class:`Mistake` with a specific, readable
message when a case fails. :func:`verdict` turns anything that can go wrong
(a stub's ``NotImplementedError``, an exception in the learner's code, a
missing function, an endless loop) into one deterministic line of text.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import os
import signal
import sys
import threading
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

DEFAULT_TIMEOUT = 30.0  # seconds a single check may run; COURSE_CHECK_TIMEOUT overrides
KEYFILE_ENV = "COURSE_GRADE_KEYFILE"  # the grader's per-run secret, read (and deleted) by _arm()
LOG_ENV = "COURSE_GRADE_LOG"          # where check() appends its (signed, when armed) verdict records
_SELF = os.path.abspath(__file__)
_HERE = os.path.dirname(_SELF)
_setprofile = sys.setprofile           # bound now: a notebook that replaces sys.setprofile cannot blind us
_compare_digest = hmac.compare_digest


class Mistake(Exception):
    """A case failed; the message says what to fix."""


class LearnerError(Exception):
    """The learner's code raised; carries the function name and the original exception."""

    def __init__(self, name: str, exc: BaseException):
        super().__init__(name, exc)
        self.name, self.exc = name, exc


class ReferenceUsed(Exception):
    """The learner's function ran the course's own reference code (passed back or wrapped)."""


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that a learner's ``except Exception`` cannot swallow it."""


@dataclass
class Exercise:
    hid: str
    title: str
    names: tuple
    check_fn: Callable
    reference: dict = field(default_factory=dict)


EXERCISES: dict[str, Exercise] = {}
_RESULTS: dict[str, bool] = {}
_STATE = {"armed": False, "strict": False}


def register(hid: str, title: str, names, reference: dict):
    """Decorator: register ``check_fn`` for exercise ``hid`` that needs the functions ``names``."""
    def wrap(fn):
        if hid in EXERCISES:
            raise ValueError(f"exercise {hid!r} is already registered")
        EXERCISES[hid] = Exercise(hid, title, tuple(names), fn, dict(reference))
        return fn
    return wrap


def _exercise(hid: str) -> Exercise:
    if hid not in EXERCISES:
        raise ValueError(f"hid must be one of {sorted(EXERCISES, key=lambda h: int(h[1:]))}, got {hid!r}")
    return EXERCISES[hid]


def reference(hid: str) -> dict:
    """The reference implementation of exercise ``hid``: ``{name: callable}`` (not available while grading)."""
    if _STATE["armed"]:
        raise RuntimeError("the reference implementations are not available while a notebook is being graded")
    return dict(_exercise(hid).reference)


_PROVIDED: set = set()  # code objects of grading-side callables a check hands to the learner on purpose


def provide(fn):
    """Mark a callable defined in the grading package that a check passes to the learner's function
    (a model's forward, a loss to differentiate): calling it is not 'using the reference'."""
    code = getattr(fn, "__code__", None)
    if code is not None:
        _PROVIDED.add(code)
    return fn


def _grading_code(code) -> bool:
    """Code of a check module (where the references live); _core's own helpers (the alarm handler) are not."""
    path = os.path.abspath(code.co_filename)
    return code not in _PROVIDED and os.path.dirname(path) == _HERE and path != _SELF


def call(fn: Callable, *args, **kwargs):
    """Call a learner's function with its printing silenced; wrap its exceptions in LearnerError."""
    name = getattr(fn, "__name__", "your function")
    sink = io.StringIO()
    strict = _STATE["strict"]
    seen = []

    def watch(frame, event, arg):
        if event == "call" and not seen and _grading_code(frame.f_code):
            seen.append(frame.f_code.co_name)

    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if strict:
                _setprofile(watch)
            try:
                return fn(*args, **kwargs)
            finally:
                if strict:
                    _setprofile(None)
                    if seen:
                        raise ReferenceUsed(seen[0])
    except (_Timeout, KeyboardInterrupt, ReferenceUsed):
        raise
    except Exception as exc:  # noqa: BLE001 - anything the learner's code does wrong
        raise LearnerError(name, exc) from None


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Interrupt the block after ``seconds`` (main thread on Unix only; elsewhere no limit)."""
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def _rng_preserved():
    """Checks must not change the notebook's random streams."""
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()
    try:
        yield
    finally:
        torch.random.set_rng_state(torch_state)
        np.random.set_state(np_state)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_reference(fn) -> bool:
    code = getattr(fn, "__code__", None) or getattr(getattr(fn, "__call__", None), "__code__", None)
    if code is not None and _grading_code(code):
        return True
    if isinstance(fn, type) and any(os.path.dirname(os.path.abspath(getattr(sys.modules.get(c.__module__), "__file__",
                                                                            "") or "")) == _HERE
                                    for c in fn.__mro__ if c.__module__ not in ("builtins",)):
        return True
    return False


def verdict(hid: str, namespace: dict | None = None, *, timeout: float | None = None, strict: bool | None = None,
            **funcs) -> tuple[bool, str]:
    """Run the check of ``hid`` on the learner's functions; return ``(ok, line)``.

    The functions are looked up by name in ``namespace`` (a notebook passes
    ``globals()``) or given as keyword arguments. Never raises for anything
    the learner's code does. ``strict`` (on by default while a notebook is
    graded) refuses functions that are, or run, the course's reference code.
    """
    ex = _exercise(hid)
    head = f"{ex.hid} {ex.title}"
    found = {}
    for name in ex.names:
        fn = funcs.get(name, (namespace or {}).get(name))
        if fn is None:
            return False, (f"{head}: `{name}` is not defined - run the cell that defines it "
                           f"(if that cell shows an error, fix it first)")
        if not callable(fn):
            return False, f"{head}: `{name}` should be a function, got {type(fn).__name__}"
        found[name] = fn
    strict = _STATE["armed"] if strict is None else bool(strict)
    if strict:
        for name, fn in found.items():
            if _is_reference(fn):
                return False, (f"{head}: `{name}` is the course's reference implementation, not yours - write the "
                               f"function yourself (no credit)")
    if timeout is None:
        timeout = float(os.environ.get("COURSE_CHECK_TIMEOUT", DEFAULT_TIMEOUT))
    before = _STATE["strict"]
    _STATE["strict"] = strict
    try:
        with _rng_preserved(), _time_limit(timeout):
            ex.check_fn(found)
    except Mistake as m:
        return False, f"{head}: {_one_line(m)}"
    except ReferenceUsed:
        return False, (f"{head}: your function runs the course's reference implementation from the grading "
                       f"library - write it yourself (no credit)")
    except LearnerError as e:
        if isinstance(e.exc, NotImplementedError):
            return False, f"{head}: not done yet - {_one_line(e.exc) or 'the stub still raises NotImplementedError'}"
        return False, (f"{head}: calling `{e.name}` raised {type(e.exc).__name__}: "
                       f"{_one_line(e.exc, 200)}")
    except _Timeout:
        return False, (f"{head}: stopped after {timeout:g} s - your code did not finish "
                       f"(look for a loop that never ends)")
    except Exception as exc:  # a learner's object broke the check itself (wrong return type...)
        return False, (f"{head}: your result could not be checked ({type(exc).__name__}: "
                       f"{_one_line(exc, 200)}) - look at what your function returns")
    finally:
        _STATE["strict"] = before
    return True, f"{head}: passed"


def check(hid: str, namespace: dict | None = None, *, timeout: float | None = None, **funcs) -> None:
    """Print the verdict line of exercise ``hid`` and remember it for :func:`passed`.

    Returns nothing, so that a notebook cell shows only the printed line. While
    the grader runs the notebook (after :func:`_arm`), the verdict is also
    appended to the grader's log with a signature the notebook's code cannot
    compute, so a printed "passed" that did not come from here earns nothing.
    """
    armed = _STATE.get("check")
    if armed is not None:
        armed(hid, namespace, timeout, funcs)
        return
    ok, line = verdict(hid, namespace, timeout=timeout, **funcs)
    _RESULTS[hid] = ok
    print(line)


def record_digest(key: bytes, fields) -> str:
    """The signature of one verdict record (the grader recomputes it)."""
    return hmac.new(key, "\t".join(map(str, fields)).encode("utf-8"), hashlib.sha256).hexdigest()


def _arm() -> bool:
    """Called by the grader's first cell, before any learner code runs: read and delete the per-run key,
    freeze the registry, and make :func:`check` sign its records. Returns whether a key was found."""
    if _STATE["armed"]:
        return False
    path = os.environ.pop(KEYFILE_ENV, None)
    if not path:
        return False
    try:
        with open(path, "rb") as fh:
            key = fh.read()
        os.remove(path)
    except OSError:
        return False
    log_path = os.environ.pop(LOG_ENV, None)
    modules = [m for name, m in sorted(sys.modules.items())
               if name.startswith("course_lib.grading") and m is not None]
    frozen_vars = [(m, dict(vars(m))) for m in modules]
    frozen_ex = {h: (e, e.check_fn, e.names, e.title) for h, e in EXERCISES.items()}
    genuine_verdict, results, state, digest = verdict, _RESULTS, _STATE, record_digest
    counter = [0]

    def intact() -> bool:
        if any(vars(m).get(k, _MISSING) is not v for m, snap in frozen_vars for k, v in snap.items()):
            return False
        return all(EXERCISES.get(h) is e and e.check_fn is fn and e.names == names and e.title == title
                   for h, (e, fn, names, title) in frozen_ex.items())

    def armed_check(hid, namespace, timeout, funcs):
        if not intact():
            ex = frozen_ex.get(hid)
            ok, line = False, (f"{hid} {ex[3] if ex else 'exercise'}: the grading library was modified in this "
                               f"kernel (a name in course_lib.grading was replaced) - no credit")
        else:
            ok, line = genuine_verdict(hid, namespace, timeout=timeout, strict=True, **funcs)
        results[hid] = ok
        print(line)
        counter[0] += 1
        fields = (counter[0], hid, int(ok), line)
        if log_path:
            try:
                with open(log_path, "a", encoding="utf-8") as fh:
                    fh.write("\t".join(map(str, fields)) + "\t" + digest(key, fields) + "\n")
            except OSError:
                pass

    state["armed"] = True
    state["check"] = armed_check
    return True


_MISSING = object()


def passed(hid: str) -> bool:
    """Whether the last check of ``hid`` run in this process passed."""
    _exercise(hid)
    return _RESULTS.get(hid, False)


# ----------------------------------------------------------------- helpers for checks
def as_tensor(value, what: str) -> torch.Tensor:
    """The learner's result as a float64 tensor, or a Mistake naming what was returned."""
    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float64)
    if isinstance(value, (np.ndarray, float, int, np.floating, np.integer)):
        return torch.as_tensor(np.asarray(value, dtype=np.float64))
    raise Mistake(f"{what} should be a tensor, got {type(value).__name__}")


def as_float(value, what: str) -> float:
    try:
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                raise Mistake(f"{what} should be a single number, got a tensor of shape {tuple(value.shape)}")
            return float(value.detach())
        return float(value)
    except (TypeError, ValueError):
        raise Mistake(f"{what} should be a number, got {type(value).__name__}") from None


def close(a, b, *, rtol=1e-4, atol=1e-6) -> bool:
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.isfinite(a).all()) and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def first_match(value, variants: dict, **tol):
    """Name of the first variant ``value`` matches (variants: name -> expected value), or None."""
    for name, expected in variants.items():
        try:
            if close(value, expected, **tol):
                return name
        except (RuntimeError, TypeError, ValueError):
            continue
    return None
