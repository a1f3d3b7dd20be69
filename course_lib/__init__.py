"""course_lib: the small library behind the model compression and distillation course.

Toolkit modules at the top (``data``, ``models``, ``train``, ``cache``,
``metrics``, ``features``, ``latency``, ``claims``, ``seeding``), the loss
registry in ``losses/``, headless methods in ``distill/``, ``compress/`` and
``reliability/``, what the learner sees in ``ui/``, one module per live
experiment in ``labs/chN/``, and the independent exercise oracle in
``grading/``. ``LAYOUT.md`` beside this file gives the rules (tested).

Importing course_lib sets PyTorch to one intra-op thread (override with the
environment variable COURSE_LIB_THREADS). The course's models are tiny: one
thread is as fast as two on an idle laptop and many times faster on a busy
one, where spare threads spin while they wait for a core.

It also keeps training from loading PyTorch's compiler. ``torch.optim`` keeps
``torch.compile`` out of an optimiser's methods with wrappers that import
``torch._dynamo`` (with triton and sympy: 2-3 s in every kernel) on the first call
of ``add_param_group``, ``zero_grad``, ``state_dict``, ``load_state_dict`` and on
every ``step``. While nothing has imported ``torch._dynamo``, nothing can be
compiling, so those calls do exactly what the wrappers would do without the
import (``step`` still runs with gradients off); once something imports it
(``torch.compile``, torchao, torchvision.ops), PyTorch's own wrappers run.
"""
import os as _os

import torch as _torch

__version__ = "0.1.0"

_torch.set_num_threads(int(_os.environ.get("COURSE_LIB_THREADS", "1")))


def _compiler_loaded_lazily() -> None:
    import functools
    import sys

    from torch.optim import optimizer as _opt

    def compiler_loaded() -> bool:
        return "torch._dynamo" in sys.modules

    # add_param_group, zero_grad, state_dict, load_state_dict: torch._disable_dynamo keeps the dynamo-disabled
    # function on the wrapped function's ``__dynamo_disable`` and builds it on the first call.
    for name in ("add_param_group", "zero_grad", "state_dict", "load_state_dict"):
        fn = getattr(getattr(_opt.Optimizer, name), "__wrapped__", None)
        if fn is None or getattr(fn, "__dynamo_disable", None) is not None:
            continue  # another PyTorch, or already set: leave PyTorch's own behaviour

        def disabled(*args, _fn=fn, **kwargs):
            if not compiler_loaded():  # no compiler, so no compiled frame to keep this call out of
                return _fn(*args, **kwargs)
            real = sys.modules["torch._dynamo"].disable(_fn, recursive=True, wrapping=False)  # as PyTorch does
            _fn.__dynamo_disable = real
            return real(*args, **kwargs)

        fn.__dynamo_disable = functools.wraps(fn)(disabled)

    # step: _use_grad_for_differentiable imports torch._dynamo on every call for two graph breaks, which do nothing
    # outside compiled code; the rest of it (gradients on only for a differentiable optimiser) is kept as it is.
    use_grad_code = _opt._use_grad_for_differentiable(lambda self: None).__code__
    for cls in vars(_torch.optim).values():
        if not (isinstance(cls, type) and issubclass(cls, _opt.Optimizer)):
            continue
        step = cls.__dict__.get("step")
        impl = getattr(step, "__wrapped__", None)
        if impl is None or getattr(step, "hooked", False) or getattr(step, "__code__", None) is not use_grad_code:
            continue  # not the wrapper we know, or already hooked by an optimiser built before us

        def lazy_step(*args, _impl=impl, _stock=step, **kwargs):
            if compiler_loaded():
                return _stock(*args, **kwargs)
            prev = _torch.is_grad_enabled()
            try:
                _torch.set_grad_enabled(args[0].defaults["differentiable"])
                return _impl(*args, **kwargs)
            finally:
                _torch.set_grad_enabled(prev)

        cls.step = functools.wraps(impl)(lazy_step)


_compiler_loaded_lazily()
