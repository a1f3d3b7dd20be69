"""Checks for the chapter 4 exercises: H17 (IoU and NMS, against torchvision.ops), H18 (multiply-adds of a
depthwise-separable block, against torch.utils.flop_counter), H19 (CTC greedy decoding), H20 (the LwF loss
in the class-incremental case), H21 (a Reptile update), H22 (a layer mapping for hidden-state distillation)."""
from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from ._core import LearnerError, Mistake, as_float, as_tensor, call, close, first_match, provide, register


def _gen(seed):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------ H17
def _box_iou(a, b, *, variant=""):
    a, b = a.double(), b.double()
    plus = 1.0 if variant == "plus1" else 0.0
    area_a = (a[:, 2] - a[:, 0] + plus) * (a[:, 3] - a[:, 1] + plus)
    area_b = (b[:, 2] - b[:, 0] + plus) * (b[:, 3] - b[:, 1] + plus)
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = rb - lt + plus
    if variant != "noclamp":
        wh = wh.clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    if variant == "over_a":
        return inter / area_a[:, None]
    union = area_a[:, None] + area_b[None, :] - (0 if variant == "nominus" else inter)
    return torch.where(union > 0, inter / union.clamp_min(1e-30), torch.zeros_like(inter))


def _nms(boxes, scores, iou_threshold, *, variant=""):
    order = scores.argsort(descending=True, stable=True)
    iou = _box_iou(boxes, boxes)
    keep, removed = [], torch.zeros(len(boxes), dtype=torch.bool)
    for i in order.tolist():
        if removed[i]:
            continue
        keep.append(i)
        hit = iou[i] >= iou_threshold if variant == "ge" else iou[i] > iou_threshold
        if variant == "inverted":
            hit = iou[i] <= iou_threshold
        removed |= hit
        removed[i] = True
    if variant == "all_suppress":  # suppressed boxes also suppress others
        keep, removed = [], torch.zeros(len(boxes), dtype=torch.bool)
        for i in order.tolist():
            if not removed[i]:
                keep.append(i)
            removed |= iou[i] > iou_threshold
    if variant == "index_order":
        keep = sorted(keep)
    return torch.tensor(keep, dtype=torch.long)


def _ref_iou(a, b):
    return _box_iou(a, b).to(a.dtype)


def _ref_nms(boxes, scores, iou_threshold):
    return _nms(boxes, scores, iou_threshold)


def _boxes(n, seed):
    g = _gen(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * 20
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * 12 + 1
    return torch.cat([xy, xy + wh], 1)


@register("H17", "IoU and non-maximum suppression", ("box_iou", "nms"), reference={"box_iou": _ref_iou, "nms": _ref_nms})
def check_h17(f):
    import torchvision.ops as ops

    iou_fn, nms_fn = f["box_iou"], f["nms"]
    a, b = _boxes(7, 17), _boxes(5, 18)
    far = torch.tensor([[100.0, 100.0, 101.0, 101.0], [3.0, 3.0, 3.0, 8.0]], dtype=torch.float64)  # disjoint, zero area
    b = torch.cat([b, far])
    got = as_tensor(call(iou_fn, a.clone(), b.clone()), "box_iou(a, b)")
    want = ops.box_iou(a, b)
    if not close(got, want, atol=1e-9):
        if got.shape != want.shape:
            raise Mistake(f"box_iou(a, b) should be an (N, M) table, here {tuple(want.shape)}, got {tuple(got.shape)}")
        if not bool(torch.isfinite(got).all()):
            raise Mistake("a box of zero area gives 0/0 = nan: its IoU with anything is 0 (torchvision returns 0 "
                          "unless the union is 0 too)")
        wrong = first_match(got, {v: _box_iou(a, b, variant=v) for v in ("plus1", "noclamp", "over_a", "nominus")},
                            atol=1e-9)
        raise Mistake({
            "plus1": "the +1 pixel convention (x2 - x1 + 1): torchvision's boxes are continuous, width = x2 - x1",
            "noclamp": "disjoint boxes get a non-zero (negative) overlap: clamp the intersection's width and height "
                       "at 0",
            "over_a": "that is intersection / area(a): IoU divides by the UNION, area(a) + area(b) - intersection",
            "nominus": "the union counts the intersection twice: union = area(a) + area(b) - intersection",
        }.get(wrong, "box_iou should match torchvision.ops.box_iou for (x1, y1, x2, y2) boxes"))
    boxes = _boxes(30, 19)
    boxes = torch.cat([boxes, boxes[:6] + 0.5])  # near-duplicates that must be suppressed
    scores = torch.rand(len(boxes), generator=_gen(20), dtype=torch.float64)
    for thr in (0.5, 0.3, 0.0):
        got_k = call(nms_fn, boxes.clone(), scores.clone(), thr)
        got_k = [int(i) for i in torch.as_tensor(got_k).reshape(-1).tolist()]
        want_k = ops.nms(boxes, scores, thr).tolist()
        if got_k == want_k:
            continue
        if sorted(got_k) == sorted(want_k):
            raise Mistake("the right boxes, in the wrong order: return the kept indices by decreasing score")
        variants = {v: _nms(boxes, scores, thr, variant=v).tolist()
                    for v in ("all_suppress", "inverted", "index_order", "ge")}
        key = next((k for k, v in variants.items() if v == got_k), None)
        raise Mistake({
            "all_suppress": "a box that was already suppressed still suppresses others: only KEPT boxes suppress",
            "inverted": "the threshold is inverted: suppress the boxes whose IoU with a kept box is ABOVE it",
            "index_order": "return the kept indices by decreasing score, not in index order",
            "ge": "boxes whose IoU equals the threshold are suppressed too: suppress only IoU > threshold (as "
                  "torchvision does)",
        }.get(key, f"at iou_threshold={thr:g} expected {want_k[:8]}... (torchvision.ops.nms), got {got_k[:8]}...: "
                   f"take boxes by decreasing score, keep one, drop every remaining box whose IoU with it exceeds "
                   f"the threshold"))
    tie = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 1.0]], dtype=torch.float64)  # IoU exactly 0.5
    got_k = [int(i) for i in torch.as_tensor(call(nms_fn, tie, torch.tensor([0.9, 0.8], dtype=torch.float64), 0.5)
                                            ).reshape(-1).tolist()]
    if got_k != [0, 1]:
        raise Mistake("a box whose IoU equals the threshold exactly is kept (suppress only IoU > threshold, as "
                      "torchvision does)")
    empty = call(nms_fn, torch.zeros(0, 4, dtype=torch.float64), torch.zeros(0, dtype=torch.float64), 0.5)
    if len(torch.as_tensor(empty).reshape(-1)) != 0:
        raise Mistake("no boxes in, no indices out: nms of an empty set is empty")


# ------------------------------------------------------------------------------ H18
def _separable_macs(c_in, c_out, kernel_size, height, width, *, stride=1, padding=0):
    h = (height + 2 * padding - kernel_size) // stride + 1
    w = (width + 2 * padding - kernel_size) // stride + 1
    return h * w * (c_in * kernel_size * kernel_size + c_in * c_out)


def _measured_macs(c_in, c_out, k, hgt, wid, stride, padding):
    from torch.utils.flop_counter import FlopCounterMode

    block = nn.Sequential(nn.Conv2d(c_in, c_in, k, stride=stride, padding=padding, groups=c_in, bias=False),
                          nn.Conv2d(c_in, c_out, 1, bias=False))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        block(torch.zeros(1, c_in, hgt, wid))
    return counter.get_total_flops() // 2  # the counter reports FLOPs = 2 x multiply-adds


@register("H18", "multiply-adds of a depthwise-separable block", ("separable_macs",),
          reference={"separable_macs": _separable_macs})
def check_h18(f):
    fn = f["separable_macs"]
    for args, kw in (((8, 16, 3, 12, 12), {}), ((3, 32, 5, 20, 17), dict(stride=2, padding=2)),
                     ((16, 4, 3, 9, 9), dict(stride=3, padding=1)), ((1, 1, 1, 1, 1), {})):
        want = _measured_macs(*args, kw.get("stride", 1), kw.get("padding", 0))
        assert want == _separable_macs(*args, **kw)
        got = call(fn, *args, **kw)
        try:
            got = int(round(float(got)))
        except (TypeError, ValueError):
            raise Mistake(f"separable_macs should return a number, got {type(got).__name__}") from None
        if got == want:
            continue
        c_in, c_out, k, hgt, wid = args
        s, p = kw.get("stride", 1), kw.get("padding", 0)
        ho, wo = (hgt + 2 * p - k) // s + 1, (wid + 2 * p - k) // s + 1
        raise Mistake({
            2 * want: "that is FLOPs (torch.utils.flop_counter counts 2 per multiply-add): return multiply-adds",
            ho * wo * c_in * c_out * k * k: "that is a standard k x k convolution: the depthwise conv has one k x k "
                                             "filter PER input channel (c_in k^2 per position), then a 1 x 1 conv "
                                             "mixes channels (c_in c_out)",
            ho * wo * c_in * k * k: "the pointwise (1 x 1) convolution is missing: add c_in * c_out per position",
            ho * wo * c_in * c_out: "the depthwise convolution is missing: add c_in * k^2 per position",
            hgt * wid * (c_in * k * k + c_in * c_out): "the output size ignores stride and padding: "
                                                      "H_out = (H + 2p - k) // stride + 1",
            ((hgt - k) // s + 1) * ((wid - k) // s + 1) * (c_in * k * k + c_in * c_out):
                "padding is ignored: H_out = (H + 2 * padding - k) // stride + 1",
        }.get(got, f"separable_macs{args} {kw or ''} should be {want} (measured with torch.utils.flop_counter), "
                   f"got {got}"))


# ------------------------------------------------------------------------------ H19
def _ctc_greedy(log_probs, blank=0, *, variant=""):
    path = log_probs.argmax(-1).tolist()
    if variant == "blank_first":
        path = [p for p in path if p != blank]
    out, prev = [], None
    for p in path:
        if (variant == "nocollapse" or p != prev) and (p != blank or variant == "keepblank"):
            out.append(p)
        prev = p
    return out


def _ctc_ref(log_probs, blank=0):
    return _ctc_greedy(log_probs, blank)


def _frames(labels, C):
    lp = torch.full((len(labels), C), -5.0, dtype=torch.float64)
    for t, c in enumerate(labels):
        lp[t, c] = -0.1
    return F.log_softmax(lp, -1)


@register("H19", "CTC greedy decoding", ("ctc_greedy_decode",), reference={"ctc_greedy_decode": _ctc_ref})
def check_h19(f):
    fn = f["ctc_greedy_decode"]
    C = 6
    cases = [([0, 3, 3, 0, 3, 2, 2, 0, 0, 5], 0), ([0, 2, 2, 0, 3, 3, 3, 2], 3), ([1, 1, 4, 1, 4, 4, 2], 1),
             ([0, 0, 0], 0),
             ([2, 2, 2, 2], 0), ([5, 0, 5, 5, 0, 0, 5], 0)]
    for labels, blank in cases:
        lp = _frames(labels, C)
        kept = lp.clone()
        got = call(fn, lp, blank=blank)
        if not torch.equal(kept, lp):
            raise Mistake("ctc_greedy_decode changed log_probs in place")
        try:
            got = [int(v) for v in (got.tolist() if isinstance(got, torch.Tensor) else got)]
        except (TypeError, ValueError):
            raise Mistake(f"return a list of label ids, got {type(got).__name__}") from None
        want = _ctc_greedy(lp, blank)
        if got == want:
            continue
        variants = {"blank0": _ctc_greedy(lp, 0) if blank != 0 else None}
        variants.update({v: _ctc_greedy(lp, blank, variant=v) for v in ("blank_first", "nocollapse", "keepblank")})
        variants["time_axis"] = lp.argmax(0).tolist()
        key = next((k for k, v in variants.items() if v == got), None)
        raise Mistake({
            "blank_first": "blanks are removed BEFORE merging repeats, so 'a blank a' became 'a': merge repeated "
                           "labels first, then drop the blanks",
            "nocollapse": "repeated labels in consecutive frames must be merged into one",
            "keepblank": "the blank symbol must be removed from the output",
            "blank0": f"the blank index is the `blank` argument (here {blank}), not always 0",
            "time_axis": "argmax over the class axis (the last one), one label per frame",
        }.get(key, f"frames {labels} with blank={blank} decode to {want}, got {got}: take the argmax per frame, "
                   f"merge repeats, drop blanks"))


# ------------------------------------------------------------------------------ H20
def _lwf_ci(logits, labels, old_logits, n_old, *, T=2.0, lam=1.0, variant=""):
    if variant == "new_only_ce":
        ce = F.cross_entropy(logits[:, n_old:], labels - n_old)
    else:
        ce = F.cross_entropy(logits, labels)
    cur = logits[:, :n_old]
    if variant == "softmax_all":
        lp_cur = F.log_softmax(logits / T, -1)[:, :n_old]
    else:
        lp_cur = F.log_softmax(cur / (1.0 if variant == "oneside_t" else T), -1)
    lp_old = F.log_softmax(old_logits / (1.0 if variant == "oneside_s" else T), -1)
    kd = (lp_old.exp() * (lp_old - lp_cur)).sum(-1).mean()
    if variant == "reverse":
        kd = (lp_cur.exp() * (lp_cur - lp_old)).sum(-1).mean()
    return ce + lam * (1.0 if variant == "noT2" else T * T) * kd


def _lwf_ci_loss(logits, labels, old_logits, n_old, *, T=2.0, lam=1.0):
    return _lwf_ci(logits, labels, old_logits.detach(), n_old, T=T, lam=lam)


@register("H20", "LwF loss, class-incremental", ("lwf_ci_loss",), reference={"lwf_ci_loss": _lwf_ci_loss})
def check_h20(f):
    fn = f["lwf_ci_loss"]
    g = _gen(20)
    n, n_old, n_new = 9, 4, 3
    logits = torch.randn(n, n_old + n_new, generator=g, dtype=torch.float64) * 2
    old = torch.randn(n, n_old, generator=g, dtype=torch.float64) * 3
    labels = torch.randint(n_old, n_old + n_new, (n,), generator=g)  # the new task's labels are new classes
    settings = ((2.0, 1.0), (4.0, 0.5), (1.0, 2.0))

    def value(T, lam):
        return as_float(call(fn, logits.clone(), labels.clone(), old.clone(), n_old, T=T, lam=lam),
                        f"lwf_ci_loss(..., T={T:g}, lam={lam:g})")

    try:
        got = torch.tensor([value(T, lam) for T, lam in settings], dtype=torch.float64)
    except LearnerError as e:
        if "size" in str(e.exc) or "shape" in str(e.exc):
            raise Mistake("the shapes do not match: distil only the first n_old columns of the current logits "
                          "(logits[:, :n_old]) against the old model's n_old outputs") from None
        raise
    want = torch.stack([_lwf_ci(logits, labels, old, n_old, T=T, lam=lam) for T, lam in settings])
    ent = torch.stack([T * T * lam * -(torch.softmax(old / T, -1) * F.log_softmax(old / T, -1)).sum(-1).mean()
                       for T, lam in settings])
    if not (close(got, want) or close(got, want + ent)):  # soft cross-entropy accepted, as in H2 and H13
        variants = {v: torch.stack([_lwf_ci(logits, labels, old, n_old, T=T, lam=lam, variant=v)
                                    for T, lam in settings])
                    for v in ("new_only_ce", "softmax_all", "oneside_t", "oneside_s", "reverse", "noT2")}
        key = first_match(got, variants)
        raise Mistake({
            "new_only_ce": "the cross-entropy uses only the new classes' logits: in the class-incremental case the "
                           "model must choose among ALL classes, so use F.cross_entropy(logits, labels) over every "
                           "column",
            "softmax_all": "the softmax for distillation runs over all classes and is then sliced: normalise over "
                           "the old classes only, F.log_softmax(logits[:, :n_old] / T)",
            "oneside_t": "T is applied to the old model's outputs only: soften the current old-class logits too",
            "oneside_s": "T is applied to the current logits only: soften the old model's outputs too",
            "reverse": "KL is the wrong way round: the old model's outputs are the target, KL(old_T || current_T)",
            "noT2": "the T^2 factor is missing from the distillation term",
        }.get(key, f"at (T, lam) = {list(settings)} expected {[round(float(v), 4) for v in want]}, got "
                   f"{[round(float(v), 4) for v in got]}: CE(logits, labels) + lam * T^2 * "
                   f"KL(softmax(old/T) || softmax(logits[:, :n_old]/T))"))
    lg, od = logits.clone().requires_grad_(True), old.clone().requires_grad_(True)
    out = call(fn, lg, labels.clone(), od, n_old, T=2.0, lam=1.0)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise Mistake("the loss must be a tensor connected to the current logits (no .item() or numpy)")
    out.backward()
    if od.grad is not None and float(od.grad.abs().max()) > 0:
        raise Mistake("gradient flows into the old model's outputs: they are fixed targets, use old_logits.detach()")
    if lg.grad is None or float(lg.grad[:, :n_old].abs().max()) == 0:
        raise Mistake("no gradient reaches the current model's old-class logits: the distillation term must use them")


# ------------------------------------------------------------------------------ H21
def _reptile(model, task_loss, *, inner_steps=5, inner_lr=0.1, outer_lr=0.5, variant=""):
    fast = copy.deepcopy(model) if variant != "no_copy" else model
    opt = torch.optim.SGD(fast.parameters(), lr=inner_lr)
    for _ in range(inner_steps):
        if variant != "no_zero":
            opt.zero_grad()
        task_loss(fast).backward()
        opt.step()
    with torch.no_grad():
        for p, q in zip(model.parameters(), fast.parameters()):
            if variant == "no_copy":
                continue
            p.add_(-outer_lr * (q - p) if variant == "reverse" else outer_lr * (q - p))


def _reptile_update(model, task_loss, *, inner_steps=5, inner_lr=0.1, outer_lr=0.5):
    _reptile(model, task_loss, inner_steps=inner_steps, inner_lr=inner_lr, outer_lr=outer_lr)


def _h21_setup():
    with torch.random.fork_rng():
        torch.manual_seed(21)
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    g = _gen(21)
    X = torch.randn(16, 3, generator=g, dtype=torch.float64)
    y = torch.sin(X.sum(1, keepdim=True))

    def task_loss(m):
        return F.mse_loss(m(X), y)
    return model, provide(task_loss)


@register("H21", "Reptile meta-update", ("reptile_update",), reference={"reptile_update": _reptile_update})
def check_h21(f):
    fn = f["reptile_update"]
    for k, a, e in ((5, 0.1, 0.5), (1, 0.2, 1.0), (3, 0.05, 0.0), (0, 0.1, 0.5)):
        model, task_loss = _h21_setup()
        start = [p.detach().clone() for p in model.parameters()]
        call(fn, model, task_loss, inner_steps=k, inner_lr=a, outer_lr=e)
        got = [p.detach().clone() for p in model.parameters()]

        def after(variant=""):
            m, tl = _h21_setup()
            _reptile(m, tl, inner_steps=k, inner_lr=a, outer_lr=e, variant=variant)
            return [p.detach().clone() for p in m.parameters()]

        def same(xs, ys):
            return all(close(x, y, atol=1e-9) for x, y in zip(xs, ys))

        if same(got, after()):
            continue
        if same(got, start):
            raise Mistake("the model did not move: update its parameters in place, "
                          "theta <- theta + outer_lr * (theta_adapted - theta)")
        key = next((v for v in ("reverse", "no_copy", "no_zero") if same(got, after(v))), None)
        raise Mistake({
            "reverse": "the outer step goes the wrong way: move TOWARDS the adapted weights, theta + outer_lr * "
                       "(theta_adapted - theta)",
            "no_copy": "the inner steps trained the model itself: adapt a copy (copy.deepcopy(model)), then move "
                       "the original part of the way (outer_lr) towards it",
            "no_zero": "gradients accumulate across inner steps: zero them before each backward "
                       "(optimizer.zero_grad())",
        }.get(key, f"after {k} inner SGD steps (lr {a:g}) on a copy and an outer step of {e:g}, the weights differ "
                   f"from theta + outer_lr * (theta_adapted - theta)"))


# ------------------------------------------------------------------------------ H22
def _layer_map(kind, n_student, n_teacher):
    if kind not in ("uniform", "first", "last"):
        raise ValueError(f"kind must be one of ('uniform', 'first', 'last'), got {kind!r}")
    if not 1 <= n_teacher:
        raise ValueError(f"n_teacher must be at least 1, got {n_teacher}")
    if not 1 <= n_student <= n_teacher:
        raise ValueError(f"n_student must be in 1..{n_teacher} (n_teacher), got {n_student}")
    if kind == "first":
        return list(range(1, n_student + 1))
    if kind == "last":
        return list(range(n_teacher - n_student + 1, n_teacher + 1))
    return [math.floor((j + 1) * n_teacher / n_student + 0.5) for j in range(n_student)]


@register("H22", "layer mapping for hidden-state distillation", ("layer_mapping",),
          reference={"layer_mapping": _layer_map})
def check_h22(f):
    fn = f["layer_mapping"]
    for kind, ns, nt in (("uniform", 4, 12), ("uniform", 3, 6), ("first", 3, 8), ("last", 3, 8),
                         ("uniform", 5, 5), ("uniform", 1, 4), ("last", 2, 2)):
        out = call(fn, kind, ns, nt)
        try:
            got = [int(v) for v in out]
        except (TypeError, ValueError):
            raise Mistake(f"layer_mapping should return a list of teacher layers, got {type(out).__name__}") from None
        want = _layer_map(kind, ns, nt)
        if got == want:
            continue
        if len(got) != ns:
            raise Mistake(f"one teacher layer per student layer: {ns} entries for n_student={ns}, got {len(got)}")
        if got == [w - 1 for w in want]:
            raise Mistake("the layers are numbered from 1 (layer 1 is the first block, n_teacher the last): "
                          "yours are 0-based")
        if kind == "uniform" and got == [1 + j * nt // ns for j in range(ns)]:
            raise Mistake("the uniform mapping must END at the teacher's last layer (every n_t/n_s-th layer: "
                          f"for 4 of 12 that is 3, 6, 9, 12), not start at layer 1")
        raise Mistake(f"layer_mapping({kind!r}, {ns}, {nt}) should be {want}, got {got}")
    # non-divisible depths: any rounding of j * n_t / n_s that ends at the last layer and never repeats is fine
    for ns, nt in ((3, 7), (2, 5), (4, 10)):
        got = [int(v) for v in call(fn, "uniform", ns, nt)]
        exact = [(j + 1) * nt / ns for j in range(ns)]
        if not (len(got) == ns and got[-1] == nt and all(abs(g_ - e_) < 1 for g_, e_ in zip(got, exact))
                and all(b > a for a, b in zip(got, got[1:]))):
            raise Mistake(f"uniform with {ns} of {nt} layers should round j * {nt}/{ns} (j = 1..{ns}) and end at "
                          f"layer {nt}, got {got}")
    for args, name in ((("uniform", 6, 4), "n_student"), (("first", 5, 4), "n_student"), (("last", 0, 4), "n_student"),
                       (("middle", 2, 4), "kind")):
        try:
            out = call(fn, *args)
        except LearnerError as e:
            if not isinstance(e.exc, ValueError):
                raise Mistake(f"layer_mapping{args} should raise ValueError, not {type(e.exc).__name__}: "
                              f"{str(e.exc)[:80]}") from None
            if name not in str(e.exc):
                raise Mistake(f"the ValueError for layer_mapping{args} should name the parameter {name!r} and the "
                              f"allowed range, got: {str(e.exc)[:100]}") from None
            continue
        raise Mistake(f"layer_mapping{args} returned {out!r}: a student deeper than the teacher (or an unknown kind, "
                      f"or no layers) is a mistake, raise ValueError naming {name!r} and the allowed range")
