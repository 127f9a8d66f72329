"""Regions that are pieces of one object: joined where one primitive explains them better than apart.

A ring's shaded inside, a chrome surface's reflections or a snowman's shaded
side can part one object into arcs and patches a few pixels apart. Each piece
alone is outlined fairly well by some small primitive, so the pieces pass as
objects of their own. Pieces lying within a few pixels of each other are
gathered (transitively) into clusters; a cluster becomes one region when the
best primitive for their union (rings included) gets fewer pixels wrong than
the best primitives for the pieces fitted apart. The few pixels between the
pieces (what closing their gaps adds) join with them: the shaded stretch of a
ring that parted it is the ring's, and with it a ring's hole is closed in.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from seig.models.classical.analysis import Analysis, with_regions
from seig.models.classical.camera import View
from seig.models.classical.fit import RegionTarget, fit_shapes, initial_camera

JOIN_REACH = 5  # pixels (at the analysis' 256 px) between pieces of one object that count as near
EVALUATIONS = 120  # Nelder-Mead evaluations per start, for the union and the pieces alike


def clusters(masks: list[np.ndarray], reach: int = JOIN_REACH) -> list[list[int]]:
    """Groups of two or more regions linked by chains of regions within ``reach`` pixels of each other."""
    grown = [ndimage.binary_dilation(mask, iterations=reach) for mask in masks]
    near = {i: {j for j in range(len(masks)) if j != i and (grown[i] & masks[j]).any()} for i in range(len(masks))}
    seen: set[int] = set()
    groups = []
    for start in range(len(masks)):
        if start in seen:
            continue
        group, todo = {start}, [start]
        while todo:
            for j in near[todo.pop()] - group:
                group.add(j)
                todo.append(j)
        seen |= group
        if len(group) > 1:
            groups.append(sorted(group))
    return groups


def _wrong(view: View, analysis: Analysis, index: int) -> float:
    """Pixels the best primitive of any class (rings included) gets wrong for one region."""
    region = analysis.regions[index]
    fits = fit_shapes(view, RegionTarget.build(analysis, index), region, "part", EVALUATIONS)
    return min(loss for _, loss in fits.values()) * region.area


def join_fragments(analysis: Analysis) -> Analysis:
    """The analysis with each cluster of pieces that one primitive explains better joined into one region.

    Fitted under the first camera guess, as the split is.
    """
    masks = [region.mask for region in analysis.regions]
    groups = clusters(masks)
    if not groups:
        return analysis
    view = View(initial_camera(analysis), analysis.width, analysis.height)
    joined: list[np.ndarray] = []
    used: set[int] = set()
    for group in groups:
        pieces = np.any([masks[k] for k in group], axis=0)
        union = pieces | (ndimage.binary_closing(pieces, iterations=JOIN_REACH) & (analysis.labels < 2))
        trial = with_regions(analysis, [union] + [m for k, m in enumerate(masks) if k not in group])
        if _wrong(view, trial, 0) < sum(_wrong(view, analysis, k) for k in group):
            joined.append(union)
            used.update(group)
    if not joined:
        return analysis
    kept = [m for k, m in enumerate(masks) if k not in used]
    return with_regions(analysis, sorted(joined + kept, key=lambda m: -int(m.sum())))
