"""Reading the photo: world, horizon, ground (lit and in shadow) and object regions.

The segmentation works in chromaticity, because lighting scales a surface's
colour but barely changes its hue: the ground is the large region sharing the
ground's chromaticity whose brightness follows a smooth falloff, shadows are
the same chromaticity darker, and whatever is neither ground nor world is an
object. Touching objects of different hues are split by clustering in Lab.

Where hue cannot tell (a white object on a white floor, the shaded side of an
object the floor's colour, floor burnt out to white under a lamp), sharp closed
outlines do: light falloff and soft shadows draw none.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.cluster.vq import kmeans2
from PIL import Image
from skimage.color import lab2rgb, rgb2lab
from skimage.filters import apply_hysteresis_threshold
from skimage.morphology import remove_small_holes

from seig.models.classical.camera import GROUND, SKY
from seig.models.classical.snowmen import group_snowmen, snowmen_under_hats
from seig.tools.images import file_version, read_rgb, render_size, to_linear

IGNORE = -1
ANALYSIS_SIDE = 256
MAX_REGIONS = 12
EDGE_CONTRAST = 4.0  # Lab units per pixel along a region's outline; light blobs and soft shadows stay below
SPLIT_CONTRAST = 5.0
SPLIT_MINORITY = 3  # a hue cluster under a tenth of its piece still splits off when one piece of it has this many times the least region area
HORIZON_STEP = 1.5  # Lab units per pixel along the background's lower rim; a fading floor stays below
CLIPPED = 0.98  # sRGB level above which a pixel is over-exposed and its hue lost
FRAGMENT = (1 / 3, 0.3)  # a neighbour at least this share of a piece's size, holding this share of its outline
FRAGMENT_REACH = 1 / 64  # how far out (share of the long side) a piece's outline is taken when looking for what it leans on
# A piece and its neighbour both this far from grey (linear chromaticity), their hues turned this many degrees apart, are two
# objects: on the standard suite the fragments of one object turned 0-25 degrees, the two wrongly folded objects 52 and 53.
FRAGMENT_HUE = (0.1, 40.0)
# Closed outlines: hysteresis thresholds (Lab units per pixel), gap bridged (pixels), the share of the
# frame an edge-free area reaching the border needs to count as open floor or sky, and how much of a
# shaded patch (inside, then around it) must already be object for the patch to join it.
ENCLOSE_EDGE, ENCLOSE_GAP, ENCLOSE_OPEN, ENCLOSE_SHARE = (1.5, 4.0), 2, 0.05, (0.08, 0.5)
HUE_SIGMA, HUE_STEPS = 0.06, 6  # blur (share of the long side) and growth steps of the floor's hue field
POOL_RIM = (75, 2.0, 0.25)  # percentile and Lab units per pixel along a light pool's rim on open floor; the least share of its rim there


@dataclass
class Region:
    """One object region in the photo."""

    mask: np.ndarray
    color: np.ndarray  # median sRGB
    lit_color: np.ndarray  # median sRGB of its brighter half
    highlight: float  # fraction of near-white specular pixels

    @property
    def has_hole(self) -> bool:
        """A sizeable hole (floor seen through a ring) suggests a torus."""
        return int(ndimage.binary_fill_holes(self.mask).sum()) > self.area + max(4, self.area // 50)

    @property
    def area(self) -> int:
        return int(self.mask.sum())

    def bbox(self) -> tuple[int, int, int, int]:
        rows, cols = np.nonzero(self.mask)
        return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())


@dataclass
class Analysis:
    image: np.ndarray  # sRGB float, analysis resolution
    labels: np.ndarray  # SKY, GROUND, 2 + k for region k, IGNORE for unsure pixels
    world: np.ndarray | None  # sRGB of the visible background, None when the floor fills the view
    ground_lit: np.ndarray  # sRGB of lit ground
    ground_shadow: np.ndarray | None  # sRGB of ground in shadow, None when no shadow is seen
    shadow: np.ndarray  # bool mask
    horizon_v: float | None  # pixel row of the floor's far edge (continuous), None when not visible
    floor_light: np.ndarray | None = None  # smooth model of lit-floor brightness (linear), for lamp estimates
    edge_columns: np.ndarray = field(default_factory=lambda: np.empty(0))  # columns where that edge is seen
    edge_rows: np.ndarray = field(default_factory=lambda: np.empty(0))  # and its continuous row there
    regions: list[Region] = field(default_factory=list)

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def width(self) -> int:
        return self.image.shape[1]


def min_region_area(height: int, width: int) -> int:
    """Pixels a region needs to count as an object: smaller pieces are noise, specks or shadow crumbs."""
    return max(12, int(0.0012 * height * width))


def _chroma(lin: np.ndarray) -> np.ndarray:
    return lin / (lin.sum(axis=-1, keepdims=True) + 1e-4)


def _sky_mask(lab: np.ndarray, world_lab: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The flat background touching the top, if any.

    Far floor under a lamp's falloff also looks flat near the top, but it fades
    out across a gentle gradient where the real floor's edge is a step.
    """
    close = np.linalg.norm(lab - world_lab, axis=-1) < 2.5
    components, _ = ndimage.label(close)
    touching = np.unique(components[0][components[0] > 0])
    sky = np.isin(components, touching)
    if sky[-1].any():  # reaching the bottom: that is floor, not sky
        return np.zeros_like(sky)
    if sky.sum() < 0.02 * sky.size and sky[0].mean() < 0.5:  # slivers of sky (a floor's far corner between them) must line at least half the top
        return np.zeros_like(sky)
    rim = ndimage.binary_dilation(sky) & ~sky
    if np.median(edges[rim]) < HORIZON_STEP:
        return np.zeros_like(sky)
    return sky


def _horizon(sky: np.ndarray, image: np.ndarray) -> float | None:
    """Continuous row of the sky/ground boundary, from the columns where it is not hidden."""
    h, w = sky.shape
    if not sky[0].any() or sky.mean() > 0.97:
        return None
    first = np.where(sky.all(axis=0), h, np.argmin(sky, axis=0))
    first = np.where(sky[0], first, -1)
    valid = first[(first > 0) & (first < h - 1)]
    if valid.size < max(3, w // 10):
        return None
    row = int(np.percentile(valid, 75))
    cols = np.nonzero(first == row)[0]
    if row + 1 >= h or cols.size == 0:
        return float(row)
    above, pixel, below = image[row - 1, cols], image[row, cols], image[min(row + 1, h - 1), cols]
    span = below - above
    t = ((pixel - above) * span).sum(axis=1) / np.maximum((span * span).sum(axis=1), 1e-6)
    return float(row + 1 - np.clip(np.median(t), 0.0, 1.0))


def _floor_edge(sky: np.ndarray, floor: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the continuous row where sky gives way to floor (not where an object rises into the sky).

    ``floor`` includes the bright strip of distant floor along the edge, which is
    not labelled ground (its grazing reflections are not the floor's colour).
    """
    h, w = sky.shape
    if not sky[0].any():
        return np.empty(0), np.empty(0)
    first = np.argmin(sky, axis=0)
    columns, rows = [], []
    for c in range(w):
        r = int(first[c])
        if not sky[0, c] or r < 1 or r + 1 >= h or not floor[r + 1, c]:
            continue
        above, pixel, below = image[r - 1, c], image[r, c], image[r + 1, c]
        span = below - above
        t = float(np.clip((pixel - above) @ span / max(float(span @ span), 1e-6), 0.0, 1.0))
        columns.append(c + 0.5)
        rows.append(r + 1 - t)
    return np.array(columns), np.array(rows)


def _fit_ground_brightness(lum: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """A smooth model of lit-floor brightness (lamp falloff included); shadows fall below it.

    Normalised convolution: a wide blur of the floor's log-brightness, weighted by
    which pixels currently look like lit floor, re-weighted a few times so that
    shadows and floor-coloured objects stop pulling the model.
    """
    sigma = 0.07 * max(lum.shape)
    loglum = np.log(lum + 1e-3)
    weight = candidate.astype(float)
    fallback = float(np.median(loglum[candidate])) if candidate.any() else -3.0
    model = np.full_like(lum, fallback)
    for _ in range(4):
        if weight.sum() < 12:
            break
        mass = ndimage.gaussian_filter(weight, sigma, mode="nearest")
        model = ndimage.gaussian_filter(weight * loglum, sigma, mode="nearest") / np.maximum(mass, 1e-6)
        model = np.where(mass > 0.02, model, fallback)
        residual = loglum - model
        weight = (candidate & (residual > -0.1) & (residual < 0.3)).astype(float)
    return np.exp(model)


def _floor_hue_field(chroma: np.ndarray, seed: np.ndarray, below: np.ndarray, start: np.ndarray, tolerance: np.ndarray) -> np.ndarray:
    """The floor's chromaticity as a smooth field: under a tinted lamp it drifts away from its far-off hue.

    Grown from the floor pixels that match the global hue, by normalised
    convolution, a few times, each time taking in pixels close to the local hue.
    """
    sigma = HUE_SIGMA * max(chroma.shape[:2])
    field = np.broadcast_to(start, chroma.shape).copy()
    weight = seed.astype(float)
    for _ in range(HUE_STEPS):
        if weight.sum() < 12:
            break
        mass = ndimage.gaussian_filter(weight, sigma, mode="nearest")
        local = np.stack([ndimage.gaussian_filter(weight * chroma[..., c], sigma, mode="nearest") for c in range(3)], axis=-1)
        field = np.where((mass > 0.05)[..., None], local / np.maximum(mass, 1e-6)[..., None], field)
        weight = (below & (np.linalg.norm(chroma - field, axis=-1) < tolerance)).astype(float)
    return field


def _light_pools(bright: np.ndarray, lit: np.ndarray, edges: np.ndarray, open_area: np.ndarray) -> np.ndarray:
    """Floor under a lamp, brighter than the smooth floor model can follow: it fades into lit floor without an edge.

    A floor-coloured object brighter than the floor has an outline; a pool of light only a gradient.
    Where the pool meets an object, the object's outline lines its rim: only its rim on open floor
    (edge-free and reaching the frame) is judged.
    """
    pools = np.zeros_like(bright)
    pieces, n = ndimage.label(bright)
    for i in range(1, n + 1):
        piece = pieces == i
        rim = ndimage.binary_dilation(piece, iterations=2) & lit
        open_rim = rim & open_area
        if open_rim.sum() >= max(8, POOL_RIM[2] * rim.sum()) and np.percentile(edges[open_rim], POOL_RIM[0]) < POOL_RIM[1]:
            pools |= piece
    return pools


def _split_by_colour(mask: np.ndarray, lab: np.ndarray, edges: np.ndarray, min_area: int, depth: int = 0) -> list[np.ndarray]:
    """Split a region in two when its pixels form two hues with a sharp edge between them (touching objects).

    Hue is compared as linear-light chromaticity, which shading does not change,
    so a sphere's lit and dark sides stay one object. A hue that is a small share
    of the piece (a cone showing beside a big box) still splits off when it is
    large enough to be an object itself; a highlight split off that way is folded
    back as a fragment, having no hue of its own.
    """
    if depth >= 3 or mask.sum() < 2 * min_area:
        return [mask]
    rgb = np.clip(_lab_to_linear(lab[mask]), 0, None)
    features = 100 * _chroma(rgb)[:, :2]
    if np.ptp(features, axis=0).max() < 1e-6:
        return [mask]
    with warnings.catch_warnings():  # an empty cluster just means one hue: handled below
        warnings.simplefilter("ignore")
        centres, assignment = kmeans2(features, 2, seed=np.random.default_rng(0), minit="++")
    shares = np.bincount(assignment, minlength=2) / len(assignment)
    if np.linalg.norm(centres[0] - centres[1]) < 9.0:
        return [mask]
    first = np.zeros_like(mask)
    first[mask] = assignment == 0
    if shares.min() < 0.1 and _largest_piece(first if shares[0] < shares[1] else mask & ~first) < SPLIT_MINORITY * min_area:
        return [mask]  # a sliver, or a rim of blended pixels: not an object of its own
    interface = ndimage.binary_dilation(first) & mask & ~first
    if not interface.any() or np.median(edges[interface]) < SPLIT_CONTRAST:
        return [mask]  # one object whose shading drifts in hue
    parts = []
    for part in (first, mask & ~first):
        pieces, n = ndimage.label(ndimage.binary_opening(part, iterations=1))
        for i in range(1, n + 1):
            if (pieces == i).sum() >= min_area:
                parts.extend(_split_by_colour(pieces == i, lab, edges, min_area, depth + 1))
    return parts or [mask]


def _largest_piece(mask: np.ndarray) -> int:
    """Pixels in the largest piece of ``mask`` left by the opening that parts a split's pieces."""
    pieces, n = ndimage.label(ndimage.binary_opening(mask, iterations=1))
    return int(np.bincount(pieces.ravel())[1:].max()) if n else 0


def _lab_to_linear(lab: np.ndarray) -> np.ndarray:
    return to_linear(lab2rgb(lab.reshape(-1, 1, 3)).reshape(-1, 3))


def edge_strength(lab: np.ndarray) -> np.ndarray:
    """Colour-edge magnitude in Lab units per pixel."""
    gradients = [np.hypot(ndimage.sobel(lab[..., c], 0), ndimage.sobel(lab[..., c], 1)) / 8.0 for c in range(3)]
    return np.sqrt(sum(g * g for g in gradients))


def _boundary_contrast(mask: np.ndarray, edges: np.ndarray) -> float:
    """How sharp a piece's outline is: the edge strength on its rim, or a few pixels in.

    A piece that took in its outline pixels (see ``_outlined``) has its edge
    inside its rim, and a burnt-out face beside burnt-out floor shows none on it.
    """
    inner = ndimage.binary_erosion(mask, iterations=ENCLOSE_GAP + 1)
    return max(_rim_contrast(piece, edges) for piece in (mask, inner))


def _rim_contrast(mask: np.ndarray, edges: np.ndarray) -> float:
    ring = ndimage.binary_dilation(mask) & ~ndimage.binary_erosion(mask)
    return float(np.percentile(edges[ring], 75)) if ring.any() else 0.0


def _hugs_sky(mask: np.ndarray, sky: np.ndarray) -> bool:
    """A strip along the floor's far edge: distant floor (brightened by grazing reflections), not an object.

    Thin strips count however they touch the sky; flat wide bands (four times wider
    than tall, no object is) count when the sky runs along most of their top.
    """
    if not sky.any():
        return False
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    near_sky = (ndimage.binary_dilation(sky, iterations=2) & mask).sum() > 0.3 * mask.sum()
    if near_sky and rows.size <= max(3, 0.04 * mask.shape[0]):
        return True
    top = np.argmax(mask, axis=0)[cols]
    capped = sky[np.maximum(top - 2, 0), cols].mean() > 0.7
    spans = cols[0] == 0 and cols[-1] == mask.shape[1] - 1
    return bool((cols.size >= 4 * rows.size or spans) and capped)


@dataclass
class Outlines:
    """Sharp outlines, and the patches they close in (everything but the large edge-free areas reaching the frame)."""

    strong: np.ndarray
    patches: list[np.ndarray]
    open_area: np.ndarray

    @classmethod
    def find(cls, edges: np.ndarray, min_area: int) -> "Outlines":
        strong = ndimage.binary_dilation(apply_hysteresis_threshold(edges, ENCLOSE_EDGE[0], ENCLOSE_EDGE[1]), iterations=ENCLOSE_GAP)
        free, n = ndimage.label(~strong)
        sizes = ndimage.sum(np.ones_like(free), free, index=np.arange(1, n + 1))
        border = np.unique(np.concatenate([free[0], free[-1], free[:, 0], free[:, -1]]))
        open_ids = [int(i) for i in border if i > 0 and sizes[i - 1] >= ENCLOSE_OPEN * free.size]
        patches = [free == i for i in range(1, n + 1) if i not in open_ids and sizes[i - 1] >= min_area // 2]
        return cls(strong=strong, patches=patches, open_area=np.isin(free, open_ids))


def _outlined(outlines: Outlines, inside: np.ndarray, lit: np.ndarray, shadow: np.ndarray, min_area: int) -> np.ndarray:
    """Patches closed in by sharp outlines: the faces of an object the floor's own colour, which only its outline betrays.

    The floor (and the sky) are the large edge-free areas reaching the frame;
    light falloff and soft shadows do not draw closed sharp lines, objects do.
    A sharp cast shadow is closed in too, but it meets its object only at the
    base, where a shaded face shares much of its outline with the object.
    """
    strong = outlines.strong
    patches = [p & inside for p in outlines.patches if (p & inside).sum() >= min_area // 2]
    objectish = inside & ~lit & ~shadow
    shaded = []
    for patch in patches:
        if shadow[patch].mean() <= 0.5 or objectish[patch].mean() >= ENCLOSE_SHARE[0]:
            objectish |= patch
        else:
            shaded.append(patch)
    for patch in sorted(shaded, key=lambda p: -p.sum()):
        ring = ndimage.binary_dilation(patch, iterations=2 * ENCLOSE_GAP + 3) & ~patch & ~strong
        if ring.any() and objectish[ring].mean() >= ENCLOSE_SHARE[1]:
            objectish |= patch
    accepted = objectish & ~(inside & ~lit & ~shadow)
    # the outline pixels between such patches belong to the object too
    return accepted | (strong & ndimage.binary_dilation(accepted, iterations=ENCLOSE_GAP + 1) & inside & ~lit)


def _merge_fragments(regions: list[Region], image: np.ndarray, lum: np.ndarray) -> list[Region]:
    """Fold small pieces into the region they lean on: a hat or a nose, a reflection on metal, a shadowed part.

    A piece counts as a fragment when a neighbour not much smaller than it holds
    a good share of its outline; a small object merely in front of a big one
    touches it along less of its outline. The outline is taken a few pixels out:
    a part parted from the rest by a thin gap of shadow or unsure pixels still
    leans on it, and an object that only touches a neighbour's edge holds less
    of that wider ring. A piece whose hue is turned far from its neighbour's is
    an object of its own (a copper cone against a green ball), however it leans;
    greys and burnt-out highlights have no hue to turn. Pieces are taken smallest first.
    """
    reach = max(2, round(FRAGMENT_REACH * max(image.shape[:2])))
    regions = sorted(regions, key=lambda r: r.area)
    merged = True
    while merged:
        merged = False
        for i, small in enumerate(regions):
            ring = ndimage.binary_dilation(small.mask, iterations=reach) & ~small.mask
            best, share = None, 0.0
            for j, other in enumerate(regions):
                if j != i and other.area >= FRAGMENT[0] * small.area and not _hues_apart(small, other):
                    s = float(other.mask[ring].mean())
                    if s > share:
                        best, share = j, s
            if best is not None and share >= FRAGMENT[1]:
                union = small.mask | regions[best].mask
                regions = [r for k, r in enumerate(regions) if k not in (i, best)] + [make_region(union, image, lum)]
                regions.sort(key=lambda r: r.area)
                merged = True
                break
    return regions


def _hues_apart(first: Region, second: Region) -> bool:
    """Whether two regions' lit colours are both coloured and of clearly different hues (see ``FRAGMENT_HUE``)."""
    offsets = [_chroma(to_linear(region.lit_color)) - 1 / 3 for region in (first, second)]
    if min(np.linalg.norm(offset) for offset in offsets) < FRAGMENT_HUE[0]:
        return False
    cosine = np.dot(*offsets) / (np.linalg.norm(offsets[0]) * np.linalg.norm(offsets[1]))
    return bool(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))) >= FRAGMENT_HUE[1])


def _snowmen_as_one(regions: list[Region], image: np.ndarray, lum: np.ndarray, labels: np.ndarray, lit: np.ndarray, shadow: np.ndarray) -> list[Region]:
    """Each snowman's lit pieces made one region (see ``snowmen``); the shade it leaves unsure is taken off floor and shadow."""
    colours = np.array([_chroma(to_linear(r.lit_color)) for r in regions]).reshape(-1, 3)
    masks, unsure = group_snowmen([r.mask for r in regions], colours, lit | (labels == SKY), labels == GROUND)
    if len(masks) == len(regions):
        return regions
    objects = np.any(masks, axis=0)
    unsure &= ~objects
    labels[unsure] = IGNORE
    shadow &= ~unsure & ~objects
    return [make_region(m, image, lum) for m in masks]


def _snowmen_under_hats(regions: list[Region], image: np.ndarray, lab: np.ndarray, chroma: np.ndarray, lum: np.ndarray, labels: np.ndarray,
                        lit: np.ndarray, shadow: np.ndarray, edges: np.ndarray, min_area: int) -> list[Region]:
    """Snowmen the pieces did not give, found from their hats (see ``snowmen``).

    Each takes its pixels from any region they were in, and from lit floor and shadow (``lit`` and ``shadow`` change in place);
    a shaded side that reads as lit floor becomes unsure.
    """
    owned = np.logical_or.reduce([r.mask for r in regions]) if regions else np.zeros(labels.shape, dtype=bool)
    sky = labels == SKY
    found = snowmen_under_hats(lab[..., 0], np.hypot(lab[..., 1], lab[..., 2]), chroma, edges,
                               lit, sky, ~owned & ~sky & ~lit, labels == GROUND)
    for mask, floorlike in found:
        if any((r.mask & mask).sum() >= 0.5 * (r.mask | mask).sum() for r in regions):
            continue  # the pieces gave this one already
        rests = [(region, region.mask & ~mask) for region in regions]
        regions = [region if rest.sum() == region.area else make_region(rest, image, lum) for region, rest in rests if rest.sum() >= min_area]
        regions.append(make_region(mask, image, lum))
        labels[floorlike] = IGNORE
        lit &= ~mask & ~floorlike
        shadow &= ~mask
    return regions


def _drop_holes(regions: list[Region], chroma: np.ndarray, ground_chroma: np.ndarray, labels: np.ndarray) -> list[Region]:
    """Floor seen through a ring (a torus hole) is floor: enclosed by one region and floor-coloured."""
    kept = []
    for region in regions:
        ring = ndimage.binary_dilation(region.mask, iterations=2) & ~region.mask
        enclosed = any((other.mask[ring]).mean() > 0.9 for other in regions if other is not region)
        floorish = np.linalg.norm(np.median(chroma[region.mask], axis=0) - ground_chroma) < 0.06
        if enclosed and floorish:
            labels[region.mask] = GROUND
        else:
            kept.append(region)
    return kept


def analyse_image(image: np.ndarray) -> Analysis:
    """Segment an sRGB float image into world, ground, shadow and object regions."""
    h, w = image.shape[:2]
    lab = rgb2lab(image)
    lin = to_linear(image)
    edges = edge_strength(lab)
    sky = _sky_mask(lab, rgb2lab(np.median(image[0], axis=0)[None, None])[0, 0], edges)
    world = np.median(image[sky], axis=0) if sky.any() else None
    horizon = _horizon(sky, image)
    rows = np.arange(h)[:, None] + 0.5
    below = (rows > (horizon if horizon is not None else -1.0)) & ~sky

    chroma = _chroma(lin)
    lum = lin.mean(axis=-1)
    min_area = min_region_area(h, w)
    bottom = below & (rows > h * 0.6) if (below & (rows > h * 0.6)).sum() > 20 else below
    if not bottom.any():
        bottom = ~sky if (~sky).any() else np.ones_like(sky)
    clipped = image.max(axis=-1) > CLIPPED  # over-exposed: hue lost, so it says nothing of the floor's colour
    if (bottom & ~clipped).sum() > 20:
        bottom &= ~clipped
    ground_chroma = np.median(chroma[bottom], axis=0)
    tolerance = 0.035 + 0.004 / (lum + 0.01)
    world_chroma = _chroma(to_linear(world)) if world is not None else ground_chroma
    tinted = ground_chroma * world_chroma / max((ground_chroma * world_chroma).sum(), 1e-6)
    near_lit = np.linalg.norm(chroma - ground_chroma, axis=-1) < tolerance
    hue = _floor_hue_field(chroma, below & near_lit & ~clipped, below, ground_chroma, tolerance)
    near_lit = np.linalg.norm(chroma - hue, axis=-1) < tolerance
    hue_tinted = hue * world_chroma / np.maximum((hue * world_chroma).sum(axis=-1, keepdims=True), 1e-6)
    near_tint = _distance_to_segment(chroma, hue, hue_tinted) < tolerance
    outlines = Outlines.find(edges, min_area)
    # an over-exposed pool of lamp light has no hue to go by, but no outline either
    candidate = below & (near_lit | (clipped & outlines.open_area))
    model = _fit_ground_brightness(lum, candidate)
    ratio = lum / np.maximum(model, 1e-4)
    lit = candidate & (ratio > 0.8) & (ratio < 1.25)
    lit |= _light_pools(candidate & (ratio >= 1.25), lit, edges, outlines.open_area)
    shadow = below & (near_lit | near_tint) & (ratio <= 0.8) & (ratio > 0.02)
    shadow |= below & (lum < 0.004) & ~lit  # pitch-black shadows have no reliable chroma
    ground = lit | shadow
    outlined = _outlined(outlines, ~sky & below, lit, shadow, min_area)
    ground &= ~outlined
    lit &= ~outlined
    shadow &= ~outlined

    deep = shadow & (ratio < 0.6)
    shadow_chroma = np.median(chroma[deep], axis=0) if deep.sum() > 20 else tinted
    labels = np.full((h, w), IGNORE, dtype=np.int16)
    labels[sky] = SKY
    labels[ground] = GROUND
    objects = ndimage.binary_opening(~sky & ~ground, iterations=1)
    pieces, n = ndimage.label(objects)
    regions: list[Region] = []
    far_floor = np.zeros((h, w), dtype=bool)
    for i in range(1, n + 1):
        piece = remove_small_holes(pieces == i, max_size=max(4, min_area // 3))
        # dark creases between an object's parts (and its contact with the floor) read as shadow: close them
        piece |= ndimage.binary_closing(piece, iterations=2) & shadow & ~lit
        if piece.sum() < min_area or _boundary_contrast(piece, edges) < EDGE_CONTRAST:
            labels[piece & (labels == IGNORE)] = GROUND  # a smooth blob: light falloff or soft shadow on the floor
            continue
        if _hugs_sky(piece, sky):
            far_floor |= piece
            continue
        for part in _split_by_colour(piece, lab, edges, min_area):
            if _floor_in_shade(part, chroma, ratio, shadow, ground_chroma, shadow_chroma):
                labels[part & (labels == IGNORE)] = GROUND
                continue
            regions.append(make_region(part, image, lum))
    regions = _drop_holes(regions, chroma, ground_chroma, labels)
    regions = _snowmen_as_one(regions, image, lum, labels, lit, shadow)
    regions = _snowmen_under_hats(regions, image, lab, chroma, lum, labels, lit, shadow, edges, min_area)
    regions = _merge_fragments(regions, image, lum)
    regions.sort(key=lambda r: -r.area)
    regions = regions[:MAX_REGIONS]
    for k, region in enumerate(regions):
        labels[region.mask] = 2 + k
    edge_columns, edge_rows = _floor_edge(sky, (labels == GROUND) | (far_floor & (labels == IGNORE)), image)
    lit_ground = image[lit] if lit.any() else image[below] if below.any() else image.reshape(-1, 3)
    return Analysis(
        image=image,
        labels=labels,
        world=world,
        ground_lit=np.median(lit_ground, axis=0),
        ground_shadow=np.median(image[shadow & (ratio < 0.6)], axis=0) if (shadow & (ratio < 0.6)).sum() > 20 else None,
        shadow=shadow,
        horizon_v=horizon,
        floor_light=model,
        edge_columns=edge_columns,
        edge_rows=edge_rows,
        regions=regions,
    )


def _floor_in_shade(part: np.ndarray, chroma: np.ndarray, ratio: np.ndarray, shadow: np.ndarray, ground_chroma: np.ndarray, shadow_chroma: np.ndarray) -> bool:
    """A dark pocket of floor beside an object (a ring's hole, a contact shadow): occlusion darkens and tints it past the shadow test.

    Floor-like when much darker than lit floor there, its hue lies along the
    lit-to-shadow floor hue line (continued past the shadow, as deeper shade
    tints further) and it borders floor seen in shadow.
    """
    if np.median(ratio[part]) > 0.4:
        return False
    far = ground_chroma + 2.0 * (shadow_chroma - ground_chroma)
    hue = np.median(chroma[part], axis=0)
    if _distance_to_segment(hue[None], ground_chroma, far)[0] > 0.1:
        return False
    ring = ndimage.binary_dilation(part, iterations=2) & ~part
    return bool((shadow[ring]).mean() > 0.15)


def _distance_to_segment(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of each point to the segment a-b (a and b may be per-point fields)."""
    ab = b - a
    t = np.clip(((points - a) * ab).sum(axis=-1) / np.maximum((ab * ab).sum(axis=-1), 1e-9), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[..., None] * ab), axis=-1)


def make_region(mask: np.ndarray, image: np.ndarray, lum: np.ndarray) -> Region:
    pixels = image[mask]
    bright = lum[mask] >= np.median(lum[mask])
    spread = pixels.max(axis=1) - pixels.min(axis=1)
    highlight = float(((pixels.min(axis=1) > 0.85) & (spread < 0.12)).mean())
    return Region(mask=mask, color=np.median(pixels, axis=0), lit_color=np.median(pixels[bright], axis=0), highlight=highlight)


def with_regions(analysis: Analysis, masks: list[np.ndarray]) -> Analysis:
    """The analysis with these object regions, labels renumbered to match (pixels of regions left out become unsure)."""
    lum = to_linear(analysis.image).mean(axis=-1)
    labels = analysis.labels.copy()
    labels[labels >= 2] = IGNORE
    regions = [make_region(m, analysis.image, lum) for m in masks]
    for k, region in enumerate(regions):
        labels[region.mask] = 2 + k
    return replace(analysis, labels=labels, regions=regions)


def analyse_target(target: str, side: int = ANALYSIS_SIDE) -> Analysis:
    """The analysis of a target photo at ``side`` pixels on its long side (cached per process and file version)."""
    return _analyse_file(*file_version(target), side)


@lru_cache(maxsize=4)
def _analyse_file(target: str, mtime_ns: int, size_bytes: int, side: int) -> Analysis:
    with Image.open(target) as img:
        side = min(side, max(img.size))
    size = render_size(Path(target), side)
    return analyse_image(read_rgb(target, size))
