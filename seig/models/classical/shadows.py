"""Cast shadows drawn with the fitter's camera model, and a sun direction fitted to the photo's shadows.

Where shadows fall pins the key light far better than brightness does, and
drawing them needs no renderer: every silhouette piece's points are pushed
along the light's rays onto the floor and filled as a convex polygon, so
hundreds of directions can be compared with the photo's shadow mask.
"""

from __future__ import annotations

import numpy as np

from seig.models.classical.analysis import Analysis
from seig.models.classical.camera import GROUND, View, label_map, object_pieces, paint_convex
from seig.models.classical.raster import convex_hull
from seig.models.classical.scene import Scene

COARSE_AZIMUTHS = np.arange(0.0, 360.0, 15.0)
COARSE_ELEVATIONS = np.arange(15.0, 86.0, 10.0)


def sun_vector(azimuth: float, elevation: float) -> np.ndarray:
    """Unit vector towards the light (same convention as the programs' ``direction``)."""
    az, el = np.radians(azimuth), np.radians(elevation)
    return np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])


def along_sun(points: np.ndarray, towards_light: np.ndarray) -> np.ndarray:
    """Points pushed along a distant light's parallel rays onto the floor."""
    return points - np.outer(points[:, 2] / towards_light[2], towards_light)


def paint_on_floor(mask: np.ndarray, view: View, pieces_on_floor: list[np.ndarray], origin: tuple[int, int] = (0, 0)) -> None:
    """Paint the convex hull of each piece's floor points as the camera sees them (pieces reaching behind it are skipped)."""
    for on_floor in pieces_on_floor:
        uv, depth = view.project(on_floor)
        if np.any(depth <= 0.05):
            continue
        hull = convex_hull(uv)
        if len(hull) >= 3:
            paint_convex(mask, hull, origin)


def shadow_mask(view: View, scene: Scene, towards_light: np.ndarray) -> np.ndarray:
    """Floor pixels the objects shade from a distant light along ``towards_light`` (objects themselves excluded)."""
    mask = np.zeros((view.height, view.width), dtype=bool)
    for obj in scene.objects:
        paint_on_floor(mask, view, [along_sun(points, towards_light) for points in object_pieces(obj)])
    return mask


def shadow_loss(analysis: Analysis, scene: Scene, floor: np.ndarray, azimuth: float, elevation: float) -> float:
    """Floor pixels where drawn and seen shadow disagree, as a fraction of the seen shadow."""
    view = View(scene.camera, analysis.width, analysis.height)
    drawn = shadow_mask(view, scene, sun_vector(azimuth, elevation)) & floor
    seen = analysis.shadow & floor
    return float((drawn ^ seen).sum()) / max(int(seen.sum()), 1)


def fit_sun_direction(analysis: Analysis, scene: Scene) -> tuple[float, float, float] | None:
    """(azimuth, elevation, loss) of the sun whose shadows best match the photo's; None without shadows to go by.

    Only floor the model leaves unoccupied is compared, so misfitted objects do not count as shadow.
    """
    if not scene.objects:
        return None
    view = View(scene.camera, analysis.width, analysis.height)
    floor = (analysis.labels == GROUND) & (label_map(view, scene.ground, scene.objects) == GROUND)
    if (analysis.shadow & floor).sum() < 20:
        return None
    grid = [(a, e) for a in COARSE_AZIMUTHS for e in COARSE_ELEVATIONS]
    scored = sorted((shadow_loss(analysis, scene, floor, a, e), a, e) for a, e in grid)
    best = scored[0]
    for _, a0, e0 in scored[:2]:
        for a in a0 + np.arange(-7.5, 7.6, 2.5):
            for e in e0 + np.arange(-5.0, 5.1, 2.5):
                if 5.0 <= e <= 89.0:
                    loss = shadow_loss(analysis, scene, floor, a % 360.0, e)
                    if loss < best[0]:
                        best = (loss, a % 360.0, e)
    loss, azimuth, elevation = best
    return float(azimuth), float(elevation), float(loss)
