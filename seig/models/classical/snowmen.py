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

When the pieces cannot be told apart (the lit side reads as pale floor, or a
piece merged with a neighbour of another colour), the hat still can: a small
black box with a bright head under it. ``snowmen_under_hats`` fits the stack
of discs below each such box to the outline the photo draws and takes the
snow-coloured and shaded pixels inside it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from scipy.optimize import minimize
from skimage.morphology import convex_hull_image

from seig.models.classical.scene import SNOWMAN_BALLS, SNOWMAN_HAT

FIT_LOSS = 0.15  # largest share of the discs' area that may be wrong: lit floor inside, pieces cut through or sticking out
SHOWN = (0.1, 0.25)  # least share of every ball, and of two of them, the pieces must show; the rest may be shade
INSIDE = 0.8  # share of a piece that must lie inside the discs (or the hat's box) for it to belong
STANDS = 0.85  # least share of the strip under the base that must be floor, lit or in shade (snowmen: 0.93-1; white things in photos: 0.65)
SAME_COLOUR = 0.05  # largest distance in linear chromaticity between pieces of one snowman (other objects: 0.13 and up)
HAT = (0.45, 0.6)  # a hat's half width and height above the head, in base radii: neither floor nor snowman there
SQUEEZE = (0.5, 1.15)  # the stack's height over the model's: the camera's pitch squeezes it, perspective stretches it a little
FIT_EVALUATIONS = 120
# A hat in the photo: L* under the first figure and under this share of lit floor's, Lab chroma under the last.
HAT_DARK = (35.0, 0.5, 10.0)
# A hat's box: least pixels and rows, least share of its box filled, least height over width (a hat seen from
# the side is half as high as wide; a shadow's dark seam under a table top is one row).
HAT_BOX = (6, 3, 0.4, 0.3)
# A stack under a hat is a snowman when this share of its discs is snow or shade, its outline is at least this
# sharp (Lab units per pixel; a near snowman's soft outline measures 2.6-3.7) and the head's bright side is this
# much lighter (L*) than the hat. On the standard suite and seeds 2000-2039 (72 scenes, 50 snowmen) it accepts
# 26 stacks, all on snowmen (one takes in as much floor shadow as snow); 4.0 accepted 21.
UNDER_HAT = (0.75, 2.5, 30.0)
# On a dark floor a ball's shaded side has the lit floor's colour and brightness, and only the outline tells them apart: a stack
# whose snow fills the first share of its discs, and the second of what is left once pixels reading as lit floor are set aside, is
# a snowman too. On the same 72 scenes that adds two snowmen (1015, 2007) and no other stack: of the others with a hat as dark and
# snow in half their discs, none passed 0.93.
SHADED_SIDE = (0.5, 0.97)
SNOW_HUE = 0.05  # largest distance in linear chromaticity from the snow's lit colour of a pixel that is snow
WIDENINGS = (0.8, 0.9, 1.0, 1.12, 1.25)  # the hat's width in the photo over the model's, tried


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


def hat_boxes(lightness: np.ndarray, chroma: np.ndarray, floor_lightness: float) -> list[np.ndarray]:
    """Small dark grey blobs shaped like a top hat seen from the side or a little above."""
    dark = (lightness < min(HAT_DARK[0], HAT_DARK[1] * floor_lightness)) & (chroma < HAT_DARK[2])
    pieces, _ = ndimage.label(dark)
    hats = []
    for index, box in enumerate(ndimage.find_objects(pieces), start=1):
        height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
        area = int((pieces[box] == index).sum())
        if (area >= HAT_BOX[0] and height >= HAT_BOX[1] and area >= HAT_BOX[2] * height * width
                and height >= HAT_BOX[3] * width and width <= dark.shape[1] // 8):
            hats.append(pieces == index)
    return hats


def stack_under(hat: np.ndarray, edges: np.ndarray, ground: np.ndarray) -> list[np.ndarray] | None:
    """The balls' discs under a hat, standing on floor, whose outline the photo draws most sharply; None if none fits."""
    rows, cols = np.nonzero(hat)
    width = cols.max() - cols.min() + 1
    u, v = cols.mean() + 0.5, rows.mean() + 0.5
    near_hat = ndimage.binary_dilation(hat, iterations=2)
    best = None
    for widen in WIDENINGS:
        s = widen * width / (2 * SNOWMAN_HAT[0])
        for squeeze in np.arange(SQUEEZE[0], SQUEEZE[1] + 1e-6, 0.05):
            params = np.array([u, v + (SNOWMAN_HAT[2] - 1.0) * s * squeeze, math.log(s), squeeze])
            balls = ball_masks(hat.shape, params)
            discs = np.logical_or.reduce(balls)
            if not stands_on(discs, ground):
                continue
            outline = discs & ~ndimage.binary_erosion(discs) & ~near_hat
            sharpness = float(edges[outline].mean()) if outline.any() else 0.0
            if best is None or sharpness > best[0]:
                best = (sharpness, balls)
    if best is None or best[0] < UNDER_HAT[1]:
        return None
    return best[1]


def snowmen_under_hats(lightness: np.ndarray, chroma: np.ndarray, lin_chroma: np.ndarray, edges: np.ndarray,
                       lit: np.ndarray, sky: np.ndarray, shade: np.ndarray, ground: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The snowmen found from their hats: each one's mask (hat plus the snow and shade inside the discs under it), and its
    shaded side where that reads as lit floor (the pixels set aside to accept it; empty for one whose snow fills its discs).

    ``lightness``/``chroma`` are Lab L* and chroma, ``lin_chroma`` linear
    chromaticity; ``lit`` is lit floor, ``shade`` pixels that are neither lit
    floor nor sky nor any object's (floor shadow, unsure), and ``ground`` floor
    lit or in shade. Lit floor inside the discs is snow only where lighter than
    lit floor's median: a snowball's lit side on pale floor.
    """
    floor_lightness = float(np.median(lightness[lit])) if lit.any() else 50.0
    found = []
    for hat in hat_boxes(lightness, chroma, floor_lightness):
        balls = stack_under(hat, edges, ground)
        if balls is None:
            continue
        body = np.logical_or.reduce(balls) & ~hat
        bright = body & (lightness >= np.percentile(lightness[body], 75))
        snow_hue = np.median(lin_chroma[bright], axis=0)
        snowy = np.linalg.norm(lin_chroma - snow_hue, axis=-1) < SNOW_HUE
        snow = body & ((snowy & ~sky & (~lit | (lightness > floor_lightness + 5))) | shade)
        floorlike = body & lit & ~snow
        head = balls[-1] & ~hat
        contrast = float(np.percentile(lightness[head], 75) - lightness[hat].mean()) if head.any() else 0.0
        snow_fills = snow.sum() >= UNDER_HAT[0] * body.sum()
        shaded_side = snow.sum() >= SHADED_SIDE[0] * body.sum() and snow.sum() >= SHADED_SIDE[1] * (body.sum() - floorlike.sum())
        if (snow_fills or shaded_side) and contrast >= UNDER_HAT[2]:
            found.append((snow | hat, np.zeros_like(floorlike) if snow_fills else floorlike))
    return found
