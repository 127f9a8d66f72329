"""Render-and-compare refinement: a bounded number of sandbox renders per round.

Colours are corrected analytically (observed over rendered colour, inside each
object's mask, in linear light); lights and placements by a pattern search in
which one render tests the same move for every object at once and each object
keeps the move only if the error around it went down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import ndimage
from skimage.transform import resize

from seig.models.base import RenderFn
from seig.models.classical.analysis import IGNORE, Analysis, analyse_target
from seig.models.classical.camera import GROUND, SKY, View, hat_pixels, label_map
from seig.models.classical.program import write_program
from seig.models.classical.scene import Scene, albedo_within
from seig.models.classical.split import fitting_analysis
from seig.tools.images import file_version, read_rgb, to_linear
from seig.tools.metrics import psnr


@dataclass
class Renderer:
    """Renders scenes through the sandbox within a budget, remembering the best one seen."""

    render: RenderFn | None
    target: Path
    budget: int
    dress: Callable[[Scene], Scene] = lambda scene: scene
    used: int = 0
    errors: list[str] = field(default_factory=list)
    best: tuple[float, Scene, np.ndarray] | None = None
    seen: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def left(self) -> int:
        return 0 if self.render is None else self.budget - self.used

    def image(self, scene: Scene, candidate: bool = True) -> np.ndarray | None:
        """The scene rendered at loop quality, or None when out of budget or failed.

        Only candidates may become the round's best; probes (a move tried on every
        object at once, to be kept object by object) may not.
        """
        program = write_program(self.dress(scene))
        if program in self.seen:
            image = self.seen[program]
            if candidate:
                self._consider(scene, image)
            return image
        if self.left <= 0:
            return None
        self.used += 1
        path, error = self.render(program)
        if error or path is None:
            self.errors.append(error or "render failed")
            return None
        image = read_rgb(path)
        self.seen[program] = image
        if candidate:
            self._consider(scene, image)
        return image

    def _consider(self, scene: Scene, image: np.ndarray) -> None:
        score = psnr(self.goal(image.shape), image)
        if self.best is None or score > self.best[0]:
            self.best = (score, scene.copy(), image)

    def part(self, budget: int) -> "Renderer":
        """A sub-search's renderer: ``budget`` renders, this one's renders already seen; ``absorb`` takes its work back."""
        return Renderer(self.render, self.target, budget, dress=self.dress, seen=dict(self.seen))

    def absorb(self, part: "Renderer", settles: bool = False) -> None:
        """Count a sub-search's renders and keep its best.

        A part that ``settles`` hands on its best even where a closer scene was seen before it: a verdict on
        which objects there are (``review``) may cost the picture a little, and must not be undone for it.
        """
        self.used += part.used
        self.errors.extend(part.errors)
        self.seen.update(part.seen)
        if part.best is not None and (settles or self.best is None or part.best[0] > self.best[0]):
            self.best = part.best

    def goal(self, shape: tuple[int, ...]) -> np.ndarray:
        return _goal(str(self.target), shape[1], shape[0])

    def analysis(self, shape: tuple[int, ...]) -> Analysis:
        return analyse_target(str(self.target), max(shape[0], shape[1]))

    def match_colours(self, scene: Scene, image: np.ndarray, objects: bool = True) -> Scene:
        """``correct_colours`` against the photo, with the regions the shapes were fitted to for objects the render-size analysis misses."""
        return correct_colours(scene, image, self.goal(image.shape), self.analysis(image.shape), objects, fitted=fitting_analysis(self.target))


def _goal(target: str, width: int, height: int) -> np.ndarray:
    """The target resized to a render's size, cached while the file is unchanged."""
    return _resized_file(*file_version(target), width, height)


@lru_cache(maxsize=1)
def _resized_file(target: str, mtime_ns: int, size_bytes: int, width: int, height: int) -> np.ndarray:
    return read_rgb(target, (width, height))


def model_labels(scene: Scene, shape: tuple[int, ...]) -> np.ndarray:
    return label_map(View(scene.camera, shape[1], shape[0]), scene.ground, scene.objects)


def _inner(mask: np.ndarray) -> np.ndarray:
    eroded = ndimage.binary_erosion(mask)
    return eroded if eroded.sum() >= 6 else mask


ALBEDO_CEILING = 0.9  # a surface that would need to be whiter than this is more likely under-lit
MAX_EXPOSURE_STEP = 2.0  # the most one correction brightens the lights by


def correct_colours(scene: Scene, image: np.ndarray, goal: np.ndarray, analysis: Analysis, objects: bool = True, damping: float = 0.9,
                    fitted: Analysis | None = None) -> Scene:
    """Scale each albedo by observed / rendered linear colour inside its mask; set the world from the sky.

    With no sky in view, light and albedo trade off freely: a render too dark
    everywhere could be fixed by either. When some surface would have to be
    whiter than ALBEDO_CEILING, the excess goes into every light instead and
    every albedo comes down by as much, so clipped albedos do not wash colours
    out. A visible sky pins the world's light, and with it the albedos.
    """
    scene = scene.copy()
    labels = model_labels(scene, image.shape)
    target_labels = analysis.labels
    if target_labels.shape != labels.shape:
        target_labels = labels  # analysis at another size: trust the model's own masks
    seen, rendered = to_linear(goal), to_linear(image)

    def ratio(mask: np.ndarray) -> np.ndarray | None:
        mask = _inner(mask)
        if mask.sum() < 4:
            return None
        r = seen[mask].mean(axis=0) / np.maximum(rendered[mask].mean(axis=0), 1e-4)
        return np.clip(r, 0.25, 4.0) ** damping

    sky = (labels == SKY) & (target_labels == SKY)
    sky_seen = sky.sum() >= 4
    if sky_seen:
        scene.world = [float(c) for c in np.clip(seen[_inner(sky)].mean(axis=0), 0.0, 1.0)]
    surfaces = [scene.ground] + (scene.objects if objects else [])
    masks = [(labels == GROUND) & (target_labels == GROUND)] + [
        (labels == 2 + k) & ((target_labels == GROUND) | (target_labels == IGNORE)) if obj.found_by_render else _seen_as(labels == 2 + k, target_labels)
        for k, obj in enumerate(surfaces[1:])
    ]
    missed = [k for k, obj in enumerate(surfaces[1:], start=1) if not obj.found_by_render and _inner(masks[k]).sum() < 4]
    if fitted is not None and missed:  # objects this analysis does not show take their region from the one the shapes were fitted to
        fine = resize(fitted.labels, labels.shape, order=0, preserve_range=True, anti_aliasing=False).astype(fitted.labels.dtype)
        for k in missed:
            masks[k] = _seen_as(labels == 1 + k, fine)
    view = View(scene.camera, labels.shape[1], labels.shape[0])
    drawn_hats = {1 + k: (labels == 2 + k) & hat_pixels(view, obj, labels.shape) for k, obj in enumerate(surfaces[1:]) if obj.hat_color is not None}
    hats = {k: hat & (masks[k] | (target_labels < 2)) for k, hat in drawn_hats.items()}  # a dark hat often reads as floor in shadow: only other objects hide it
    for k, hat in drawn_hats.items():
        masks[k] = masks[k] & ~hat  # the snow's colour from the snow alone
    wanted = {k: np.array(surface.color) * r for k, (surface, mask) in enumerate(zip(surfaces, masks)) if (r := ratio(mask)) is not None}
    hats_wanted = {k: np.array(surfaces[k].hat_color) * r for k, hat in hats.items() if (r := ratio(hat)) is not None}
    albedos = list(wanted.values()) + list(hats_wanted.values())
    excess = 1.0 if sky_seen else float(min(max([albedo.max() / ALBEDO_CEILING for albedo in albedos] + [1.0]), MAX_EXPOSURE_STEP))
    if excess > 1.0:
        _brighten_lights(scene, excess)
    for k, albedo in wanted.items():
        surfaces[k].color = albedo_within(albedo / excess)
    for k, albedo in hats_wanted.items():
        surfaces[k].hat_color = albedo_within(albedo / excess)
    return scene


def _brighten_lights(scene: Scene, factor: float) -> None:
    """Scale every light by ``factor``: with every albedo divided by as much, diffuse shading stays the same."""
    scene.light.strength *= factor
    if scene.fill is not None:
        scene.fill.strength *= factor
    scene.world = [float(c * factor) for c in scene.world]


def _seen_as(drawn: np.ndarray, target_labels: np.ndarray) -> np.ndarray:
    """The part of an object's drawn mask the photo shows as the one region it overlaps most.

    Regions are matched by overlap, not by index: an analysis at another size may
    number regions of similar area in another order.
    """
    overlap = target_labels[drawn]
    overlap = overlap[overlap >= 2]
    if overlap.size == 0:
        return np.zeros_like(drawn)
    return drawn & (target_labels == np.bincount(overlap).argmax())


def inner_errors(scene: Scene, image: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Mean squared error inside each object's drawn silhouette, a pixel in from its outline where that leaves enough (``_inner``): where its finish shows.

    Around an object (``local_errors``) the floor, its shadow and the misfit at its outline
    outweigh a highlight or a mirrored floor, which change only the object's own pixels.
    """
    labels = model_labels(scene, image.shape)
    err = ((image - goal) ** 2).mean(axis=2)
    inside = [_inner(labels == 2 + k) for k in range(len(scene.objects))]
    return np.array([float(err[mask].mean()) if mask.any() else float(err.mean()) for mask in inside])


def local_errors(scene: Scene, image: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Mean squared error around each object (its box, grown by half), then over the whole image."""
    labels = model_labels(scene, image.shape)
    err = ((image - goal) ** 2).mean(axis=2)
    out = []
    for k in range(len(scene.objects)):
        rows, cols = np.nonzero(labels == 2 + k)
        if rows.size == 0:
            out.append(float(err.mean()))
            continue
        pr, pc = (rows.ptp() + 4) // 2, (cols.ptp() + 4) // 2
        out.append(float(err[max(0, rows.min() - pr) : rows.max() + pr + 1, max(0, cols.min() - pc) : cols.max() + pc + 1].mean()))
    out.append(float(err.mean()))
    return np.array(out)
