"""A2 Object detection: a quantized student scores the same region proposals as its teacher.

Scenes are 40x40 canvases holding 2-4 digit glyphs (scikit-learn's 8x8 digits, drawn at 1x or 2x). The region
proposals are 338 sliding windows (8 pixels at stride 2, 16 pixels at stride 4); each is cut out and resized to
8x8 with ``torchvision.ops.roi_align`` and scored by a patch classifier (score = 1 - p(background)). Detections
are what survives a score threshold and non-maximum suppression (``torchvision.ops.nms``); a detection is right
when its box has IoU >= 0.5 with a not-yet-matched ground-truth digit of the same class.

The live lab shows one test scene. The students (a one-convolution network with 8-, 4- or 2-bit weights,
trained on labels or distilled from the teacher with the (T, alpha) chosen on validation scenes) and their scores on every proposal are computed in :func:`setup`;
a move only applies the score threshold (chosen on validation scenes), runs NMS at the slider's IoU and redraws.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ...distill import detection as det
from ..._checks import check_choice, check_int_range

TITLE = "Detection: a quantized student's boxes, with and without the teacher"
TRY = ("Drag the bit-width from 8 to 2 and watch the student's boxes go wrong; then raise the NMS IoU threshold "
       "and watch duplicate boxes appear around each digit.")

PANELS = (("teacher", None, None), ("student, labels", "bits", False), ("student, distilled", "bits", True))


@lru_cache(maxsize=4)
def setup(seed: int = 0, scene: int = 0):
    """Teacher and students (the first student seed of ``seed``, every bit-width; the distilled student with the
    (T, alpha) chosen on the validation scenes for its bit-width) with their proposal scores on test scene
    ``scene`` and their score thresholds chosen on the validation scenes."""
    sc, P, _, _ = det.data_for(seed)
    scene = check_int_range("scene", scene, 0, len(sc["test"]) - 1)
    one = det.Scenes(sc["test"].images[scene:scene + 1], sc["test"].boxes[scene:scene + 1],
                     sc["test"].labels[scene:scene + 1])
    chosen = det.choose_kd(det.experiment(seed))
    first = det.student_seeds(seed)[0]
    models = {("teacher", None): det.teacher(seed)}
    for b in det.BITS:
        models[(b, False)] = det.student(seed, first, b, None)
        models[(b, True)] = det.student(seed, first, b, chosen[b])
    out = {}
    for key, m in models.items():
        th = det.choose_thresholds(P, det.split_logits(m, seed, "val"), sc["val"])
        s, lab = det.scores_and_labels(det.split_logits(m, seed, "test")[scene])
        out[key] = dict(scores=s, labels=lab, score_threshold=th["score_threshold"])
    return dict(seed=seed, scene=scene, image=one.images[0, 0].numpy(), gt_boxes=one.boxes[0],
                gt_labels=one.labels[0], proposals=P, models=out, kd=chosen)


def run(s, bits: int = 4, nms_iou: float = 0.3) -> dict:
    """One slider position: detections of the teacher and of both ``bits``-bit students at NMS IoU ``nms_iou``."""
    bits = check_choice("bits", det.check_bits(bits), det.BITS)
    nms_iou = det.check_iou_threshold("nms_iou", nms_iou)
    panels = []
    for name, _, kd in PANELS:
        m = s["models"][("teacher", None) if kd is None else (bits, kd)]
        b, sc, lab = det.detect(s["proposals"], m["scores"], m["labels"], score_threshold=m["score_threshold"],
                                nms_iou=nms_iou)
        tp = det.match(b, sc, lab, s["gt_boxes"], s["gt_labels"])
        panels.append(dict(name=name, boxes=b.numpy(), labels=lab.numpy(), tp=tp.numpy(),
                           found=int(tp.sum()), n_det=len(b), threshold=m["score_threshold"]))
    return dict(bits=bits, nms_iou=nms_iou, panels=panels, image=s["image"], gt_boxes=s["gt_boxes"].numpy(),
                n_gt=len(s["gt_boxes"]), scene=s["scene"], kd=s.get("kd", {}).get(bits))


GAP = 4  # pixels between the three panels of the composite image


def render(result: dict, fig) -> None:
    """One axes, one image (teacher | student on labels | distilled student) and one collection of box outlines:
    few artists, so that a redraw stays cheap."""
    from matplotlib.collections import PolyCollection

    img = result["image"]
    h, w = img.shape
    gap = np.full((h, GAP), np.nan)
    ax = fig.add_axes((0.01, 0.02, 0.98, 0.86))
    ax.imshow(np.hstack([img, gap, img, gap, img]), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    polys, colours = [], []

    def outline(x1, y1, x2, y2, dx):
        x1, x2, y1, y2 = x1 + dx - 0.5, x2 + dx - 0.5, y1 - 0.5, y2 - 0.5  # pixel edges in imshow coordinates
        return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]

    for k, p in enumerate(result["panels"]):
        dx = k * (w + GAP)
        for b in result["gt_boxes"]:
            polys.append(outline(*b, dx))
            colours.append("tab:blue")
        for b, lab, ok in zip(p["boxes"], p["labels"], p["tp"]):
            polys.append(outline(*b, dx))
            colours.append("tab:green" if ok else "tab:red")
            ax.text(b[0] + dx, b[1] - 1.2, str(int(lab)), color=colours[-1], fontsize=7)
        ax.text(dx + w / 2, -3, f"{p['name']}: {p['found']}/{result['n_gt']} found, {p['n_det']} boxes",
                ha="center", fontsize=9)
    ax.add_collection(PolyCollection(polys, closed=True, facecolors="none", edgecolors=colours, linewidths=1.4))
    ax.set_xlim(-0.5, 3 * w + 2 * GAP - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.axis("off")


def summary(result: dict) -> str:
    t, lab, dist = result["panels"]
    kd = result.get("kd")
    kd = f" (T = {kd[0]:g}, alpha = {kd[1]:g}, chosen on validation)" if kd else ""
    return (f"test scene {result['scene']}, {result['bits']}-bit students, NMS IoU {result['nms_iou']:.1f}: "
            f"teacher finds <b>{t['found']}</b>/{result['n_gt']} digits with {t['n_det']} boxes; student on labels "
            f"<b>{lab['found']}</b> ({lab['n_det']} boxes), distilled{kd} <b>{dist['found']}</b> ({dist['n_det']} boxes). "
            f"Green: right digit at IoU >= 0.5; red: wrong digit, misplaced or duplicate; blue: ground truth. Recomputed live: "
            f"NMS and matching only (scores are cached).")


def dashboard(seed: int = 0, bits: int = 4, nms_iou: float = 0.3, scene: int = 0, background: bool = True):
    import ipywidgets as W

    from ...ui import Dashboard, slider

    s = setup(seed, scene)
    bits_w = W.SelectionSlider(options=list(det.BITS), value=check_choice("bits", bits, det.BITS), description="weight bits",
                               continuous_update=False, style={"description_width": "initial"},
                               layout=W.Layout(width="420px"))
    return Dashboard(lambda bits, nms_iou: run(s, bits, nms_iou),
                     {"bits": bits_w, "nms_iou": slider(nms_iou, 0.0, 0.9, 0.1, description="NMS IoU threshold")},
                     render=render, summary=summary, figsize=(9, 3.4), title=TITLE, background=background)
