"""Snowmen in the photo's segmentation: regrouping the lit pieces of white balls whose shaded sides read as floor shadow.

A white ball's shaded side has the colour of floor in shadow, so segmentation
keeps only its lit crescents, and a snowman falls apart into several small
regions that would each be fitted as an object of its own, floating above the
floor. Three stacked discs of the snowman's proportions, fitted in the image
(no camera needed: a ball looks round from anywhere, and the camera's pitch only
squeezes the stack), say which pieces belong together: pieces of one colour that
the discs take in whole, with no lit floor inside them, showing on every ball
and on two of them well, the base standing on floor seen inside the frame. They
become one region; the shade between them joins it, and the shade elsewhere
inside the discs is marked unsure, neither object nor floor.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize
from skimage.morphology import convex_hull_image

from seig.models.classical.scene import SNOWMAN_BALLS

FIT_LOSS = 0.15  # largest share of the discs' area that may be wrong: lit floor inside, pieces cut through or sticking out
SHOWN = (0.1, 0.25)  # least share of every ball, and of two of them, the pieces must show; the rest may be shade
INSIDE = 0.8  # share of a piece that must lie inside the discs (or the hat's box) for it to belong
STANDS = 0.85  # least share of the strip under the base that must be floor, lit or in shade (snowmen: 0.93-1; white things in photos: 0.65)
SAME_COLOUR = 0.05  # largest distance in linear chromaticity between pieces of one snowman (other objects: 0.13 and up)
HAT = (0.45, 0.6)  # a hat's half width and height above the head, in base radii: neither floor nor snowman there
SQUEEZE = (0.5, 1.15)  # the stack's height over the model's: the camera's pitch squeezes it, perspective stretches it a little
FIT_EVALUATIONS = 120


def _centre(params: np.ndarray, height: float) -> tuple[float, float, float]:
    """Image centre of the ball whose centre is ``height`` base radii above the floor, and the base radius."""
    u, v, log_s, squeeze = params
    s = math.exp(log_s)
    return u, v - (height - 1.0) * s * squeeze, s


def ball_masks(shape: tuple[int, int], params: np.ndarray) -> list[np.ndarray]:
    """The discs of a snowman's balls, base first.

    ``params``: base centre (u, v) in pixels, log base radius and squeeze (the
    stack's height in the image over the model's).
    """
    rows = np.arange(shape[0])[:, None] + 0.5
    cols = np.arange(shape[1])[None, :] + 0.5
    discs = []
    for radius, height in SNOWMAN_BALLS:
        cu, cv, s = _centre(params, height)
        discs.append((cols - cu) ** 2 + (rows - cv) ** 2 <= (radius * s) ** 2)
    return discs


def hat_mask(shape: tuple[int, int], params: np.ndarray) -> np.ndarray:
    """The box above the head where a hat may be."""
    rows = np.arange(shape[0])[:, None] + 0.5
    cols = np.arange(shape[1])[None, :] + 0.5
    head_radius, head_height = SNOWMAN_BALLS[-1]
    cu, cv, s = _centre(params, head_height)
    top = cv - head_radius * s
    return (np.abs(cols - cu) <= HAT[0] * s) & (rows >= top - HAT[1] * s) & (rows < top + 0.2 * head_radius * s)


def _starts(mask: np.ndarray) -> list[np.ndarray]:
    """Discs through one piece, taken in turn as each ball, as wide as the piece or wider, at two squeezes."""
    rows, cols = np.nonzero(mask)
    width = cols.max() - cols.min() + 1
    u, v = cols.mean() + 0.5, rows.mean() + 0.5
    out = []
    for radius, height in SNOWMAN_BALLS:
        for widen in (1.0, 1.4):  # a lit crescent is narrower than its ball
            s = max(widen * width / (2 * radius), 2.0)
            for squeeze in (0.6, 0.9):
                out.append(np.array([u, v + (height - 1.0) * s * squeeze, math.log(s), squeeze]))
    return out


def _assess(params: np.ndarray, seed: int, labels: np.ndarray, floor: np.ndarray, areas: np.ndarray, alike: np.ndarray) -> tuple[float, list[int], bool]:
    """Loss of a stack, the pieces it takes in, and whether they show on enough of its balls to be a snowman."""
    if not SQUEEZE[0] <= params[3] <= SQUEEZE[1] or math.exp(params[2]) < 2.0:
        return 10.0, [], False
    balls = ball_masks(labels.shape, params)
    discs = np.logical_or.reduce(balls)
    area = int(discs.sum())
    if area == 0:
        return 10.0, [], False
    hat = hat_mask(labels.shape, params) & ~discs
    inside = np.bincount(labels[discs].ravel(), minlength=len(areas))
    wrong = float((floor & discs).sum())
    members = []
    for k in np.nonzero(inside[2:])[0] + 2:
        k = int(k)
        hatted = int((hat & (labels == k)).sum())
        if k == seed or (alike[k] and (inside[k] + hatted) / areas[k] >= INSIDE):
            members.append(k)
            wrong += areas[k] - inside[k] - hatted  # a member sticking out
        else:
            wrong += min(inside[k], areas[k] - inside[k])  # the discs cut through another object
    if seed not in members:
        wrong += areas[seed]
    shown = np.isin(labels, members)
    covered = sorted(float((shown & ball).sum()) / max(int(ball.sum()), 1) for ball in balls)
    return wrong / area, members, len(members) >= 2 and covered[0] >= SHOWN[0] and covered[-2] >= SHOWN[1]


def find_snowman(labels: np.ndarray, floor: np.ndarray, seed: int, areas: np.ndarray, alike: np.ndarray) -> tuple[np.ndarray, list[int]] | None:
    """The discs of a snowman around region ``seed`` and the regions it takes in, if one explains them.

    Labels 2 and up are regions (``areas`` their sizes, ``alike`` whether each
    has the seed's colour), anything lower neither region nor floor. The search
    looks within reach of the seed: a snowman is about four base radii tall,
    and the seed may be its head, half a base radius wide.
    """
    rows, cols = np.nonzero(labels == seed)
    reach = 2 * (cols.max() - cols.min() + 1)
    r0, c0 = max(0, rows.min() - 3 * reach), max(0, cols.min() - reach)
    r1, c1 = rows.max() + 3 * reach + 1, cols.max() + reach + 1
    crop, crop_floor = labels[r0:r1, c0:c1], floor[r0:r1, c0:c1]
    if not any(alike[k] for k in np.unique(crop[crop >= 2]) if k != seed):
        return None  # no piece of its colour within reach to make a snowman with
    best = None
    for start in _starts(crop == seed):
        simplex = np.vstack([start] + [start + np.eye(4)[i] * d for i, d in enumerate((2.0, 2.0, 0.15, 0.1))])
        result = minimize(lambda p: _assess(p, seed, crop, crop_floor, areas, alike)[0], start, method="Nelder-Mead",
                          options={"maxfev": FIT_EVALUATIONS, "xatol": 0.2, "fatol": 1e-3, "initial_simplex": simplex})
        loss, members, shown = _assess(result.x, seed, crop, crop_floor, areas, alike)
        if best is None or loss < best[0]:
            best = (loss, result.x, members, shown)
    loss, params, members, shown = best
    if loss > FIT_LOSS or not shown:
        return None
    discs = np.zeros(labels.shape, dtype=bool)
    discs[r0:r1, c0:c1] = np.logical_or.reduce(ball_masks(crop.shape, params))
    return discs, members


def stands_on(discs: np.ndarray, ground: np.ndarray) -> bool:
    """Whether the strip just under the base's lower half is in the frame and mostly floor: a snowman stands on it."""
    rows, cols = np.nonzero(discs)
    radius = (cols.max() - cols.min() + 1) / 2
    step = max(2, round(0.15 * radius))
    if rows.max() + step >= discs.shape[0]:
        return False
    under = np.zeros_like(discs)
    under[step:] = discs[:-step]
    under &= ~discs
    under[: max(0, int(rows.max() - 0.5 * radius))] = False
    return bool(under.any()) and float(ground[under].mean()) >= STANDS


def group_snowmen(masks: list[np.ndarray], chroma: np.ndarray, floor: np.ndarray, ground: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Region masks with each snowman found made one, and the shade inside its discs that is neither object nor floor.

    ``chroma`` holds each region's colour as linear chromaticity; ``floor`` is
    what the discs must not cover (lit floor and sky); ``ground`` is floor lit
    or in shade, which the base must stand on. Shade, unsure pixels and other
    objects' pieces are neither for nor against a snowman.
    """
    labels = np.zeros(floor.shape, dtype=np.int32)
    for k, mask in enumerate(masks):
        labels[mask] = 2 + k
    areas = np.maximum(np.bincount(labels.ravel(), minlength=len(masks) + 2), 1).astype(float)
    grouped: list[np.ndarray] = []
    unsure = np.zeros(floor.shape, dtype=bool)
    taken: set[int] = set()
    for k in sorted(range(len(masks)), key=lambda i: -int(masks[i].sum())):
        if 2 + k in taken:
            continue
        alike = np.ones(len(masks) + 2, dtype=bool)
        alike[2:] = np.linalg.norm(chroma - chroma[k], axis=1) <= SAME_COLOUR
        free = np.where(np.isin(labels, list(taken)), 0, labels)
        found = find_snowman(free, floor, 2 + k, areas, alike)
        if found is None or not stands_on(found[0], ground):
            continue
        discs, members = found
        taken.update(members)
        pieces = np.isin(labels, members)
        shade = discs & ~floor & (labels < 2)
        between = shade & convex_hull_image(pieces)
        grouped.append(pieces | between)
        unsure |= shade & ~between
    return grouped + [m for k, m in enumerate(masks) if 2 + k not in taken], unsure
