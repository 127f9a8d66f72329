"""Objects the segmentation missed, found where the render and the photo disagree.

Grey and white objects on a floor of nearly their hue read as floor in shade
to the segmentation (on the standard suite, 20 of the 22 objects it missed).
Once the scene is framed, lit and coloured, its render is a far better model of
the bare floor than any segmentation: where the photo departs from it, away
from the objects already drawn, something is missing. Each such blob is fitted
with a primitive whose silhouette and cast shadow together cover it, coloured
from the photo both matte and as chrome (a mirror shows the floor and the sky,
which no matte colour matches; the finish search ran before discovery), and
kept only when the photo inside the silhouette is more than the floor made
darker or lighter (a shadow or a pool of light looks like that), the photo
shows an edge along its outline, and a render says the whole picture got closer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.color import rgb2lab
from skimage.filters import sobel
from skimage.transform import resize

from seig.models.classical.analysis import Analysis, make_region, min_region_area
from seig.models.classical.camera import SKY, View, object_pieces, silhouette_polygons
from seig.models.classical.estimate import colour_name, unique_name
from seig.models.classical.fit import SHAPE_PRIOR, RegionTarget, candidates, padded_box, refine_object
from seig.models.classical.refine import Renderer, model_labels
from seig.models.classical.scene import Light, Scene, SceneObject, albedo_within
from seig.models.classical.search import METAL, best
from seig.models.classical.shadows import along_sun, paint_on_floor, sun_vector
from seig.tools.images import to_linear
from seig.tools.metrics import psnr

MISMATCH = 12.0  # CIE76 distance between render and photo that marks a pixel as unexplained (render noise and soft shading stay below)
FAINT = 5.0  # CIE76 distance through which a blob grows from its clear mismatches (render noise: 1-2)
GROWTH = 3  # pixels (at the render's size) a blob grows that way
BLOBS = 4  # the most blobs tried per search, largest unexplained colour mass first
FLOOR_CHANGE = (0.25, 0.06)  # spread of log brightness ratio, and chromaticity shift, below which a patch is floor in shade or light
OUTLINE_EDGE = 6.0  # mean Sobel magnitude of lightness (L*) an outline must add to the render's: on the standard suite, 10 of 14 objects found on true ones did, 2 of 10 others
REFLECTIONS_EDGE = 7.0  # the same, inside the silhouette: 1008's mirror cylinder 7.9; blobs fitted to shadows on the standard suite, under 1.2
STANDS = 0.3  # least height over width of a found object (the bench's shapes: 0.32 and up)
MISFIT_REACH = 3  # pixels round a found object within which a later blob is taken for its misfit
MIN_GAIN_DB = 0.05  # what a found object must add to the whole picture's PSNR
EVALUATIONS = 80  # Nelder-Mead evaluations per shape start
FITS_CHECKED = 3  # the closest fits of a blob checked for an outline or reflections, closest first: a ring fitted best as a snowman shows none
RENDERS = 14  # the search's own renders: the scene, then up to four per blob (a first colour and a corrected one, matte then chrome)
CHROME_GREY = 0.65  # the first colour of a found object tried as metal (search.METAL), before matching (the bench's chrome objects: greys 0.55-0.85)


@dataclass
class ShadowedTarget(RegionTarget):
    """A blob explained by an object's silhouette together with the shadow its key light casts on the floor."""

    light: Light
    anchor: tuple[float, float]  # where the scene's lamps are placed from

    def loss(self, view: View, obj: SceneObject) -> float:
        polygons = silhouette_polygons(view, obj)
        if not polygons:
            return 10.0
        covered, outside = self.paint(polygons)
        paint_on_floor(covered, view, [cast_on_floor(points, self.light, self.anchor) for points in object_pieces(obj)], (self.box[0], self.box[2]))
        return self.error(covered, outside)


def cast_on_floor(points: np.ndarray, light: Light, anchor: tuple[float, float]) -> np.ndarray:
    """Points pushed along the key light's rays onto the floor: parallel for a sun, from the lamp for the others."""
    towards = sun_vector(light.azimuth, light.elevation)
    if light.kind == "SUN":
        return along_sun(points, towards)
    lamp = np.array([anchor[0], anchor[1], 0.0]) + light.distance * towards
    height = np.minimum(points[:, 2], 0.95 * lamp[2])  # a point above the lamp casts no shadow on the floor: clamp it just below
    reach = lamp[2] / (lamp[2] - height)
    return lamp + (points - lamp) * reach[:, None]


def unexplained_blobs(scene: Scene, image: np.ndarray, goal: np.ndarray) -> list[np.ndarray]:
    """Masks (render size) where the photo departs from the render away from drawn objects, largest colour mass first."""
    labels = model_labels(scene, image.shape)
    mismatch = ndimage.median_filter(np.linalg.norm(rgb2lab(image) - rgb2lab(goal), axis=-1), 3)
    free = ~ndimage.binary_dilation(labels >= 2) & (labels != SKY)
    # clear mismatches grown a little way through faint ones: a white thing's shaded side may differ from a pale floor
    # by little more than noise, while a faint mismatch in the floor's shading can run across the whole picture
    clear = ndimage.binary_opening((mismatch > MISMATCH) & free)
    reach = ndimage.binary_dilation(clear, np.ones((3, 3)), iterations=GROWTH)
    blobs, count = ndimage.label(clear | ((mismatch > FAINT) & free & reach))
    min_area = min_region_area(*image.shape[:2])
    found = [(float(mismatch[blobs == b].sum()), b) for b in range(1, count + 1) if (blobs == b).sum() >= min_area]
    return [blobs == b for _, b in sorted(found, reverse=True)]


def fit_blob(analysis: Analysis, scene: Scene, blob: np.ndarray, elsewhere: np.ndarray, name: str) -> list[SceneObject]:
    """The standing primitive of each shape class whose silhouette and shadow best cover the blob (at the analysis' size), closest first.

    Other unexplained pixels (``elsewhere``) are left out of the comparison: the object's own
    shadow, or a neighbour's side, may lie there.
    """
    mask, other = (resize(m.astype(float), analysis.labels.shape, order=0) > 0.5 for m in (blob, elsewhere))
    rows, cols = np.nonzero(mask)
    box = padded_box((rows.min(), rows.max(), cols.min(), cols.max()), mask.shape)
    crop = mask[box[0] : box[1], box[2] : box[3]]
    care = (analysis.labels[box[0] : box[1], box[2] : box[3]] != SKY) & ~other[box[0] : box[1], box[2] : box[3]]
    target = ShadowedTarget(mask=crop, care=care, box=box, area=int(crop.sum()), light=scene.light, anchor=scene.centre())
    view = View(scene.camera, analysis.width, analysis.height)
    region = make_region(mask, analysis.image, to_linear(analysis.image).mean(axis=-1))
    fits = []
    for start in candidates(view, region, name):
        fitted, loss = refine_object(view, target, start, EVALUATIONS)
        if stands(fitted):
            fits.append((loss + SHAPE_PRIOR[start.shape], fitted))
    by_shape: dict[str, SceneObject] = {}
    for _, fitted in sorted(fits, key=lambda fit: fit[0]):
        by_shape.setdefault(fitted.shape, fitted)
    return list(by_shape.values())


def stands(obj: SceneObject) -> bool:
    """A found object must stand: a flat one fills a shadow or a stain the render lacks as well as any thing would."""
    return obj.top >= STANDS * 2 * max(obj.sx, obj.sy)


def floor_change(drawn: np.ndarray, image: np.ndarray, goal: np.ndarray) -> bool:
    """Whether the photo inside ``drawn`` is the rendered floor made uniformly darker or lighter, with its hue kept."""
    inner = ndimage.binary_erosion(drawn)
    inner = inner if inner.sum() >= 6 else drawn
    seen, rendered = to_linear(goal)[inner], to_linear(image)[inner]
    ratio = np.log(np.maximum(seen.mean(axis=1), 1e-4) / np.maximum(rendered.mean(axis=1), 1e-4))
    hue_seen = seen / np.maximum(seen.sum(axis=1, keepdims=True), 1e-4)
    hue_rendered = rendered / np.maximum(rendered.sum(axis=1, keepdims=True), 1e-4)
    shift = float(np.abs(hue_seen - hue_rendered).sum(axis=1).mean())
    return float(ratio.std()) < FLOOR_CHANGE[0] and shift < FLOOR_CHANGE[1]


def outline_shows(silhouette: np.ndarray, image: np.ndarray, goal: np.ndarray) -> bool:
    """Whether the photo has an edge along the silhouette's outline, or reflections inside it, that the render without the object lacks.

    A thing occludes the floor behind it with a crisp outline; an object fitted into a shadow or a
    pool of light the render lacks, or into the misfit beside another object, has none there.
    A metal thing mirrors the floor at its rim, where its outline fades, but its inside is
    streaked with reflections, and a shadow or a pool of light is smooth inside.
    """
    inner = ndimage.binary_erosion(silhouette)
    rim = silhouette & ~inner
    seen, rendered = (sobel(rgb2lab(picture)[..., 0]) for picture in (goal, image))
    if float(seen[rim].mean() - rendered[rim].mean()) >= OUTLINE_EDGE:
        return True
    return bool(inner.any()) and float(seen[inner].mean() - rendered[inner].mean()) >= REFLECTIONS_EDGE


def placed(scene: Scene, found: SceneObject, shape: tuple[int, ...]) -> tuple[Scene, np.ndarray]:
    """The scene with ``found`` added, and ``found``'s silhouette in it (at a render's ``shape``)."""
    trial = scene.copy()
    trial.objects.append(found)
    return trial, model_labels(trial, shape) == 1 + len(trial.objects)


def shows_a_thing(silhouette: np.ndarray, blob: np.ndarray, image: np.ndarray, goal: np.ndarray) -> bool:
    """Whether the photo inside a found object's silhouette looks like a thing rather than floor (see above)."""
    drawn = silhouette & blob
    return bool(drawn.sum() >= 4 and not floor_change(drawn, image, goal) and outline_shows(silhouette, image, goal))


def matched_colour(color: list[float], drawn: np.ndarray, seen: np.ndarray, rendered: np.ndarray) -> list[float]:
    """``color`` scaled by photo over render inside ``drawn``, in linear light.

    Given the floor's colour and a render without the object, that is the albedo the object
    would need if it caught as much light as the floor it hides.
    """
    ratio = np.clip(seen[drawn].mean(axis=0) / np.maximum(rendered[drawn].mean(axis=0), 1e-4), 0.25, 4.0)
    return albedo_within(np.array(color) * ratio)


def coloured_probe(trial: Scene, color: list[float], drawn: np.ndarray, without: np.ndarray, renderer: Renderer, used: set[str]) -> tuple[Scene, np.ndarray] | None:
    """``trial`` with its last object coloured from ``color`` to match the photo inside ``drawn``, named for it, and its render (a probe); None out of budget.

    The colour is matched twice: first against the render ``without`` the object, then against the object's own first render.
    """
    found = trial.objects[-1]
    seen = to_linear(renderer.goal(without.shape))
    found.color = matched_colour(color, drawn, seen, to_linear(without))
    first = renderer.image(trial, candidate=False)
    if first is None:
        return None
    found.color = matched_colour(found.color, drawn, seen, to_linear(first))
    found.name = unique_name(f"{colour_name(np.array(found.color) ** (1 / 2.2))}_{found.shape}", set(used))  # a probe reserves no name
    checked = renderer.image(trial, candidate=False)
    return None if checked is None else (trial, checked)


def add_missing(analysis: Analysis, scene: Scene, renderer: Renderer, min_gain: float = MIN_GAIN_DB) -> Scene:
    """The scene with an object for each unexplained blob a render confirms (a gain past ``min_gain`` dB), one at a time (within the renderer's budget).

    After each object kept, the blobs are read again from its render: its shadow, or the part
    of a blob it explains, is no longer unexplained, and what is left next to it is its misfit.
    """
    image = renderer.image(scene)
    if image is None:
        return scene
    goal = renderer.goal(image.shape)
    current, current_score = scene, psnr(goal, image)
    used = {obj.name for obj in scene.objects}
    tried = np.zeros(image.shape[:2], dtype=bool)
    for _ in range(BLOBS):
        blobs = unexplained_blobs(current, image, goal)
        fresh = [blob for blob in blobs if not (blob & tried).any()]
        if not fresh or renderer.left < 2:
            break
        blob = fresh[0]
        tried |= blob
        fits = fit_blob(analysis, current, blob, np.any(blobs, axis=0) & ~blob, "found")
        trials = (placed(current, fit, image.shape) for fit in fits[:FITS_CHECKED])
        chosen = next(((trial, silhouette) for trial, silhouette in trials if shows_a_thing(silhouette, blob, image, goal)), None)
        if chosen is None:
            continue
        trial, silhouette = chosen
        drawn = silhouette & blob
        trial.objects[-1].found_by_render = True
        matte = coloured_probe(trial, scene.ground.color, drawn, image, renderer, used)
        if matte is None:
            break
        chrome = trial.copy()
        chrome.objects[-1].roughness, chrome.objects[-1].metallic = METAL
        probes = [matte, coloured_probe(chrome, [CHROME_GREY] * 3, drawn, image, renderer, used)]
        score, trial, checked = max(((psnr(goal, probe[1]), *probe) for probe in probes if probe is not None), key=lambda scored: scored[0])
        if score > current_score + min_gain:  # probes: only a gain past min_gain makes it the scene
            current, current_score, image = trial, score, checked
            used.add(trial.objects[-1].name)
            # what is left round a found object is its own misfit, for placement search to mend: not another object
            tried |= ndimage.binary_dilation(silhouette, iterations=MISFIT_REACH)
    renderer.image(current)  # already rendered: this only offers it as the round's best
    return best(renderer, current)
