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
import io
import os
import signal
import threading
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

DEFAULT_TIMEOUT = 30.0  # seconds a single check may run; COURSE_CHECK_TIMEOUT overrides


class Mistake(Exception):
    """A case failed; the message says what to fix."""


class LearnerError(Exception):
    """The learner's code raised; carries the function name and the original exception."""

    def __init__(self, name: str, exc: BaseException):
        super().__init__(name, exc)
        self.name, self.exc = name, exc


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
    """The reference implementation of exercise ``hid``: ``{name: callable}``."""
    return dict(_exercise(hid).reference)


def call(fn: Callable, *args, **kwargs):
    """Call a learner's function with its printing silenced; wrap its exceptions in LearnerError."""
    name = getattr(fn, "__name__", "your function")
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except (_Timeout, KeyboardInterrupt):
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


def verdict(hid: str, namespace: dict | None = None, *, timeout: float | None = None, **funcs) -> tuple[bool, str]:
    """Run the check of ``hid`` on the learner's functions; return ``(ok, line)``.

    The functions are looked up by name in ``namespace`` (a notebook passes
    ``globals()``) or given as keyword arguments. Never raises for anything
    the learner's code does.
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
    if timeout is None:
        timeout = float(os.environ.get("COURSE_CHECK_TIMEOUT", DEFAULT_TIMEOUT))
    try:
        with _rng_preserved(), _time_limit(timeout):
            ex.check_fn(found)
    except Mistake as m:
        return False, f"{head}: {_one_line(m)}"
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
    return True, f"{head}: passed"


def check(hid: str, namespace: dict | None = None, *, timeout: float | None = None, **funcs) -> None:
    """Print the verdict line of exercise ``hid`` (the line nbval compares) and remember it for :func:`passed`.

    Returns nothing, so that a notebook cell shows only the printed line.
    """
    ok, line = verdict(hid, namespace, timeout=timeout, **funcs)
    _RESULTS[hid] = ok
    print(line)
    log = os.environ.get("COURSE_GRADE_LOG")
    if log:
        try:
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"{hid}\t{int(ok)}\t{line}\n")
        except OSError:
            pass


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
