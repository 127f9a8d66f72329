"""Regions that are two touching objects of one hue: split where two primitives explain them far better than one.

Segmentation parts touching objects by hue, so two pale boxes one behind the
other come out as one region, and the primitive fitted to their union is a
poor fit of the wrong class (a table, most often). Sharp edges inside the
region cut it into faces. Each way of sorting the faces into two connected
parts is a proposal; the most convex proposals are fitted, and the region is
split when the pair leaves a small share of its pixels wrong, far fewer than
the best single primitive does. One ring, one snowman or one box fitted well
is never looked at, and a region whose faces are many small patches (texture)
is left alone.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.color import rgb2lab
from skimage.filters import apply_hysteresis_threshold
from skimage.morphology import convex_hull_image

from seig.models.classical.analysis import MAX_REGIONS, Analysis, analyse_target, edge_strength, min_region_area, with_regions
from seig.models.classical.camera import View
from seig.models.classical.fit import RegionTarget, fit_region, initial_camera
from seig.models.classical.join import join_fragments
from seig.tools.images import file_version

POOR_FIT = 0.15  # a region whose best primitive gets this share of its area wrong may be two objects
PAIR_FIT = 0.1  # the pair must get at most this share wrong
SPLIT_GAIN = 0.5  # and at most this share of what the single primitive gets wrong
FACE_EDGE = (3.0, 6.0)  # hysteresis thresholds (Lab units per pixel) of the edges that part faces
MAX_FACES = 7  # more faces than this is texture, not two boxes
FACES_COVER = 0.8  # the faces kept must cover this share of the region
PROPOSALS = 3  # the most convex proposals fitted
EVALUATIONS = 60  # Nelder-Mead evaluations per start, for the single fit and the pair alike


def faces(mask: np.ndarray, sharp: np.ndarray, min_area: int) -> list[np.ndarray]:
    """The region's pieces between sharp edges, largest first; empty when they are too many or cover too little."""
    pieces, _ = ndimage.label(mask & ~sharp)
    sizes = np.bincount(pieces.ravel())
    large = [i for i in np.argsort(-sizes[1:], kind="stable") + 1 if sizes[i] >= min_area]
    if len(large) < 2 or len(large) > MAX_FACES or sizes[large].sum() < FACES_COVER * mask.sum():
        return []
    return [pieces == i for i in large]


def bipartitions(mask: np.ndarray, parts: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every split of the region into two connected groups of faces; edge pixels go to the nearest face."""
    owner = np.full(mask.shape, -1)
    for i, part in enumerate(parts):
        owner[part] = i
    _, (near_r, near_c) = ndimage.distance_transform_edt(owner < 0, return_indices=True)
    owner = np.where(mask, owner[near_r, near_c], -1)
    touching = set()
    for a, b in ((owner[:, :-1], owner[:, 1:]), (owner[:-1], owner[1:])):
        meet = (a >= 0) & (b >= 0) & (a != b)
        touching |= set(zip(a[meet].tolist(), b[meet].tolist())) | set(zip(b[meet].tolist(), a[meet].tolist()))
    out = []
    for sides in product((0, 1), repeat=len(parts) - 1):
        group = {0} | {i + 1 for i, side in enumerate(sides) if side == 0}
        rest = set(range(len(parts))) - group
        if rest and _connected(group, touching) and _connected(rest, touching):
            first = np.isin(owner, sorted(group))
            out.append((first, mask & ~first))
    return out


def _connected(nodes: set[int], touching: set[tuple[int, int]]) -> bool:
    start = min(nodes)
    seen, todo = {start}, [start]
    while todo:
        i = todo.pop()
        for j in nodes - seen:
            if (i, j) in touching:
                seen.add(j)
                todo.append(j)
    return seen == nodes


def concavity(part: np.ndarray) -> int:
    """Pixels of the part's convex hull it leaves empty: boxes, balls and cones seen whole leave few."""
    rows, cols = np.nonzero(part)
    crop = part[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    return int(convex_hull_image(crop).sum() - crop.sum())


def _wrong(view: View, analysis: Analysis, index: int) -> float:
    """Pixels the best primitive for one region gets wrong."""
    region = analysis.regions[index]
    _, loss, _ = fit_region(view, RegionTarget.build(analysis, index), region, "part", EVALUATIONS)
    return loss * region.area


def best_pair(analysis: Analysis, view: View, sharp: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The two masks region ``k`` splits into, or None when one primitive explains it well enough."""
    region = analysis.regions[k]
    min_area = min_region_area(analysis.height, analysis.width)
    found = faces(region.mask, sharp, min_area)
    if not found:
        return None
    single = _wrong(view, analysis, k) / region.area
    if single <= POOR_FIT:
        return None
    proposals = [pair for pair in bipartitions(region.mask, found) if min(pair[0].sum(), pair[1].sum()) >= min_area]
    proposals.sort(key=lambda pair: concavity(pair[0]) + concavity(pair[1]))
    masks = [r.mask for r in analysis.regions]
    best = None
    for first, second in proposals[:PROPOSALS]:
        trial = with_regions(analysis, masks[:k] + [first] + masks[k + 1 :] + [second])
        loss = (_wrong(view, trial, k) + _wrong(view, trial, len(masks))) / region.area
        if best is None or loss < best[0]:
            best = (loss, first, second)
    if best is None or best[0] > min(PAIR_FIT, SPLIT_GAIN * single):
        return None
    return best[1], best[2]


def split_merged(analysis: Analysis) -> Analysis:
    """The analysis with every region that two primitives explain far better than one split in two.

    Fitted under the first camera guess; each region is judged against the unsplit others.
    """
    view = View(initial_camera(analysis), analysis.width, analysis.height)
    sharp = apply_hysteresis_threshold(edge_strength(rgb2lab(analysis.image)), *FACE_EDGE)
    masks = []
    for k, region in enumerate(analysis.regions):
        pair = best_pair(analysis, view, sharp, k)
        masks.extend(pair if pair is not None else [region.mask])
    if len(masks) == len(analysis.regions):
        return analysis
    masks.sort(key=lambda m: -int(m.sum()))
    return with_regions(analysis, masks[:MAX_REGIONS])


def fitting_analysis(target: str | Path) -> Analysis:
    """The photo's analysis with merged regions split and parted pieces joined: what the shapes are fitted to (cached per file version).

    The verdict and the colour matching read the unsplit analysis at the render's
    size; they match regions to objects by overlap, so a merged region serves them.
    An object that analysis misses is colour-matched on its region here.
    """
    return _split_file(*file_version(target))


@lru_cache(maxsize=4)
def _split_file(target: str, mtime_ns: int, size_bytes: int) -> Analysis:
    return join_fragments(split_merged(analyse_target(target)))
