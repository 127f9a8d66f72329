"""A pinhole model of the Blender camera the programs build, and silhouettes drawn with it.

Matching Blender's projection exactly lets the fitter compare thousands of
candidate layouts against the photo's segmentation without rendering; renders
are kept for what only a renderer knows (shading, shadows, colour).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial import ConvexHull, QhullError
from skimage.draw import polygon as fill_polygon

from seig.models.classical.scene import CAMERA_Y, SENSOR_MM, TORUS_MINOR, Camera, SceneObject

SKY, GROUND = 0, 1  # label values; object k has label 2 + k


@dataclass(frozen=True)
class View:
    """A camera seen at a given image size (width, height in pixels)."""

    camera: Camera
    width: int
    height: int

    @property
    def focal_px(self) -> float:
        return self.camera.lens / SENSOR_MM * max(self.width, self.height)

    @property
    def position(self) -> np.ndarray:
        return np.array([0.0, CAMERA_Y, self.camera.height])

    def axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """right, up, forward in world coordinates."""
        p = math.radians(self.camera.pitch)
        forward = np.array([0.0, math.cos(p), -math.sin(p)])
        up = np.array([0.0, math.sin(p), math.cos(p)])
        return np.array([1.0, 0.0, 0.0]), up, forward

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (u right, v down; pixel i spans [i, i+1]) and depth of world points."""
        right, up, forward = self.axes()
        rel = points - self.position
        depth = rel @ forward
        safe = np.where(depth > 1e-6, depth, 1e-6)
        u = self.width / 2 + self.focal_px * (rel @ right) / safe
        v = self.height / 2 - self.focal_px * (rel @ up) / safe
        return np.stack([u, v], axis=-1), depth

    def horizon_v(self) -> float:
        return self.height / 2 - self.focal_px * math.tan(math.radians(self.camera.pitch))

    def ground_point(self, u: float, v: float) -> tuple[float, float] | None:
        """Where the ray through pixel (u, v) meets the ground, or None above the horizon."""
        right, up, forward = self.axes()
        ray = forward + (u - self.width / 2) / self.focal_px * right - (v - self.height / 2) / self.focal_px * up
        if ray[2] >= -1e-9:
            return None
        t = -self.camera.height / ray[2]
        hit = self.position + t * ray
        return float(hit[0]), float(hit[1])

    def metres_per_pixel(self, x: float, y: float) -> float:
        depth = (np.array([x, y, 0.0]) - self.position) @ self.axes()[2]
        return float(max(depth, 1e-3) / self.focal_px)


@lru_cache(maxsize=8)
def _unit_points(shape: str) -> tuple[np.ndarray, ...]:
    """Convex pieces of a unit primitive (before scale/rotation), as point clouds."""
    ring = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    circle = np.stack([np.cos(ring), np.sin(ring)], axis=1)
    if shape == "sphere":
        n = 600
        k = np.arange(n) + 0.5
        phi = np.arccos(1 - 2 * k / n)
        theta = np.pi * (1 + 5**0.5) * k
        return (np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1),)
    if shape == "cylinder":
        return (np.concatenate([np.c_[circle, -np.ones(48)], np.c_[circle, np.ones(48)]]),)
    if shape == "cone":
        return (np.concatenate([np.c_[circle, -np.ones(48)], [[0.0, 0.0, 1.0]]]),)
    if shape == "torus":
        major = 1 - TORUS_MINOR
        small = _unit_points("sphere")[0][::4] * TORUS_MINOR
        return tuple(small + [major * c[0], major * c[1], 0.0] for c in circle)
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)
    return (corners,)


def object_pieces(obj: SceneObject) -> list[np.ndarray]:
    """World-space point clouds whose convex hulls make up the object's silhouette."""
    if obj.shape in ("sphere", "torus"):
        scale = np.array([obj.size, obj.size, obj.size])
    else:
        scale = np.array([obj.size, obj.size, obj.height])
    a = math.radians(obj.rotation)
    rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    offset = np.array([obj.x, obj.y, obj.half_height])
    return [(pts * scale) @ rot.T + offset for pts in _unit_points(obj.shape)]


def draw_object(view: View, obj: SceneObject, out: np.ndarray, value: int) -> bool:
    """Paint the object's silhouette into ``out``; False when it is behind the camera."""
    drawn = False
    for pts in object_pieces(obj):
        uv, depth = view.project(pts)
        if np.any(depth <= 0.05):
            continue
        try:
            hull = uv[ConvexHull(uv).vertices]
        except (QhullError, ValueError):
            continue
        rr, cc = fill_polygon(hull[:, 1] - 0.5, hull[:, 0] - 0.5, out.shape)
        out[rr, cc] = value
        drawn = True
    return drawn


def label_map(view: View, objects: list[SceneObject]) -> np.ndarray:
    """Sky / ground / object labels as the camera would see them, far objects painted first."""
    labels = np.full((view.height, view.width), GROUND, dtype=np.int16)
    rows = np.arange(view.height) + 0.5
    labels[rows < view.horizon_v()] = SKY
    order = sorted(range(len(objects)), key=lambda i: -view.metres_per_pixel(objects[i].x, objects[i].y))
    for i in order:
        draw_object(view, objects[i], labels, 2 + i)
    return labels
