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

from seig.models.classical.raster import convex_hull, convex_pixels
from seig.models.classical.scene import CAMERA_Y, SENSOR_MM, SNOWMAN_BALLS, SNOWMAN_HAT, TABLE_INSET, TABLE_LEG, TABLE_TOP, Camera, Ground, SceneObject

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
def _unit_points(shape: str) -> np.ndarray:
    """Points whose convex hull is the unit primitive (cube/cylinder/cone span -1..1)."""
    ring = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    circle = np.stack([np.cos(ring), np.sin(ring)], axis=1)
    if shape == "sphere":
        n = 400
        k = np.arange(n) + 0.5
        phi = np.arccos(1 - 2 * k / n)
        theta = np.pi * (1 + 5**0.5) * k
        return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1)
    if shape == "cylinder":
        return np.concatenate([np.c_[circle, -np.ones(48)], np.c_[circle, np.ones(48)]])
    if shape == "cone":
        return np.concatenate([np.c_[circle, -np.ones(48)], [[0.0, 0.0, 1.0]]])
    if shape == "ring":
        return np.c_[circle[::2], np.zeros(24)]
    return np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)


def _rotation(obj: SceneObject) -> np.ndarray:
    a = math.radians(obj.rotation)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    if obj.shape == "torus" and obj.standing:
        return rz @ np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]])
    return rz


def object_pieces(obj: SceneObject, eye: np.ndarray | None = None) -> list[np.ndarray]:
    """World-space point clouds whose convex hulls together make up the object's silhouette.

    Given the eye, a sphere is reduced to its silhouette circle, already in hull order.
    """
    offset = np.array([obj.x, obj.y, obj.lift])
    rot = _rotation(obj)
    if obj.shape == "torus":
        tube = _unit_points("sphere")[::10] * obj.sz
        centres = _unit_points("ring") * (obj.sx - obj.sz)
        return [(tube + c) @ rot.T + offset for c in centres]
    if obj.shape == "sphere" and eye is not None:
        return [_sphere_outline(offset, obj.sx, eye)]
    if obj.shape == "snowman":
        balls = [(offset + [0.0, 0.0, (h - 1.0) * obj.sx], r * obj.sx) for r, h in SNOWMAN_BALLS]
        pieces = [_sphere_outline(c, r, eye) for c, r in balls] if eye is not None else [_unit_points("sphere") * r + c for c, r in balls]
        if obj.hat_color is not None:
            radius, height, centre = SNOWMAN_HAT
            pieces.append(_unit_points("cylinder") * [radius * obj.sx, radius * obj.sx, height / 2 * obj.sx] + offset + [0.0, 0.0, (centre - 1.0) * obj.sx])
        return pieces
    if obj.shape == "table":
        return [pts @ rot.T + offset for pts in _table_parts(obj)]
    scale = np.array([obj.sx, obj.sy if obj.shape == "cube" else obj.sx, obj.sx if obj.shape == "sphere" else obj.sz])
    return [(_unit_points(obj.shape) * scale) @ rot.T + offset]


def _table_parts(obj: SceneObject) -> list[np.ndarray]:
    """A table's top slab and four legs in its own frame (origin on the floor)."""
    height = 2 * obj.sz
    top, leg = TABLE_TOP * height, TABLE_LEG * height
    box = _unit_points("cube")
    parts = [box * [obj.sx, obj.sy, top / 2] + [0.0, 0.0, height - top / 2]]
    leg_box = box * [leg, leg, (height - top) / 2]
    for sx in (-1, 1):
        for sy in (-1, 1):
            parts.append(leg_box + [sx * obj.sx * (1 - TABLE_INSET), sy * obj.sy * (1 - TABLE_INSET), (height - top) / 2])
    return parts


def _sphere_outline(centre: np.ndarray, radius: float, eye: np.ndarray) -> np.ndarray:
    """The circle where sight lines graze the sphere (its silhouette), as 64 ordered points."""
    axis = centre - eye
    d = float(np.linalg.norm(axis))
    if d <= radius * 1.001:
        return np.empty((0, 3))
    axis /= d
    helper = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    a = np.cross(axis, helper)
    a /= np.linalg.norm(a)
    b = np.cross(axis, a)
    ring = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    rim = radius * math.sqrt(1 - (radius / d) ** 2)
    middle = centre - axis * radius * radius / d
    return middle + rim * (np.outer(np.cos(ring), a) + np.outer(np.sin(ring), b))


def silhouette_polygons(view: View, obj: SceneObject) -> list[np.ndarray] | None:
    """Convex pixel-space polygons covering the object; None when it is (partly) behind the camera."""
    pieces = object_pieces(obj, view.position)
    if any(len(pts) == 0 for pts in pieces):
        return None
    uv_all, depth = view.project(np.concatenate(pieces))  # one projection for all pieces: fits call this thousands of times
    if np.any(depth <= 0.05):
        return None
    polygons = []
    for index, uv in enumerate(np.split(uv_all, np.cumsum([len(pts) for pts in pieces[:-1]]))):
        if obj.shape == "sphere" or (obj.shape == "snowman" and index < len(SNOWMAN_BALLS)):  # outlines already in order
            polygons.append(uv)
            continue
        hull = convex_hull(uv)
        if len(hull) >= 3:
            polygons.append(hull)
    return polygons


def hat_pixels(view: View, obj: SceneObject, shape: tuple[int, int]) -> np.ndarray:
    """Where a snowman's hat is drawn (whatever stands in front of it), so its colour can be read apart from the snow."""
    out = np.zeros(shape, dtype=bool)
    polygons = silhouette_polygons(view, obj) if obj.shape == "snowman" and obj.hat_color is not None else None
    if polygons and len(polygons) > len(SNOWMAN_BALLS):
        rr, cc = fill_convex(polygons[-1], shape)
        out[rr, cc] = True
    return out


def draw_object(view: View, obj: SceneObject, out: np.ndarray, value: int, origin: tuple[int, int] = (0, 0)) -> bool:
    """Paint the object's silhouette into ``out`` (whose top-left pixel is ``origin``); False if not drawable."""
    polygons = silhouette_polygons(view, obj)
    if not polygons:
        return False
    for poly in polygons:
        rr, cc = fill_convex(poly, out.shape, origin)
        out[rr, cc] = value
    return True


def convex_mask(poly: np.ndarray, shape: tuple[int, int], origin: tuple[int, int] = (0, 0)) -> tuple[int, int, np.ndarray] | None:
    """Pixels whose centres lie inside a convex polygon, as (top row, left column, mask of its bounding box); None if none."""
    top, left, inside = convex_pixels(np.asarray(poly, dtype=float), shape[0], shape[1], origin[0], origin[1])
    return (top, left, inside) if inside.size else None


def paint_convex(mask: np.ndarray, poly: np.ndarray, origin: tuple[int, int] = (0, 0)) -> None:
    """Set the pixels of a convex polygon in a boolean ``mask`` whose top-left pixel is ``origin``."""
    found = convex_mask(poly, mask.shape, origin)
    if found is not None:
        top, left, piece = found
        mask[top : top + piece.shape[0], left : left + piece.shape[1]] |= piece


def fill_convex(poly: np.ndarray, shape: tuple[int, int], origin: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of pixels whose centres lie inside a convex polygon (pixel coordinates)."""
    found = convex_mask(poly, shape, origin)
    if found is None:
        return np.empty(0, int), np.empty(0, int)
    r0, c0, inside = found
    rr, cc = np.nonzero(inside)
    return rr + r0, cc + c0


def polygon_area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def ground_polygon(view: View, ground: Ground) -> np.ndarray | None:
    """The ground square in pixel coordinates, clipped to the part in front of the camera."""
    a = math.radians(ground.rotation)
    c, s, h = math.cos(a), math.sin(a), ground.half_size
    corners = np.array([[ground.x + c * px - s * py, ground.y + s * px + c * py, 0.0] for px, py in ((-h, -h), (h, -h), (h, h), (-h, h))])
    _, depth = view.project(corners)
    near = 0.01
    clipped = []
    for i in range(4):
        p, q, dp, dq = corners[i], corners[(i + 1) % 4], depth[i], depth[(i + 1) % 4]
        if dp > near:
            clipped.append(p)
        if (dp > near) != (dq > near):
            clipped.append(p + (q - p) * (near - dp) / (dq - dp))
    if len(clipped) < 3:
        return None
    uv, _ = view.project(np.array(clipped))
    return uv


def top_edge(poly: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The smallest row at which a convex polygon covers each column (inf where it does not)."""
    start, end = poly, np.concatenate([poly[1:], poly[:1]])
    u0, v0, u1, v1 = start[:, :1], start[:, 1:], end[:, :1], end[:, 1:]
    lo, hi = np.minimum(u0, u1), np.maximum(u0, u1)
    t = (columns[None, :] - u0) / np.where(np.abs(u1 - u0) < 1e-9, 1e-9, u1 - u0)
    v = v0 + t * (v1 - v0)
    spans = (columns[None, :] >= lo) & (columns[None, :] <= hi)
    return np.where(spans, v, np.inf).min(axis=0)


def clip_to_box(poly: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray | None:
    """Sutherland-Hodgman clipping of a polygon to a rectangle, so huge coordinates stay exact."""
    points = [tuple(p) for p in poly]
    for axis, bound, keep_above in ((0, x0, True), (0, x1, False), (1, y0, True), (1, y1, False)):
        inside = (lambda p: p[axis] >= bound) if keep_above else (lambda p: p[axis] <= bound)
        result = []
        for i, p in enumerate(points):
            q = points[(i + 1) % len(points)]
            if inside(p):
                result.append(p)
            if inside(p) != inside(q):
                t = (bound - p[axis]) / (q[axis] - p[axis])
                result.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
        points = result
        if not points:
            return None
    return np.array(points) if len(points) >= 3 else None


def label_map(view: View, ground: Ground, objects: list[SceneObject]) -> np.ndarray:
    """Sky / ground / object labels as the camera would see them, far objects painted first."""
    labels = np.full((view.height, view.width), SKY, dtype=np.int16)
    poly = ground_polygon(view, ground)
    if poly is not None:
        poly = clip_to_box(poly, -2.0, -2.0, view.width + 2.0, view.height + 2.0)
    if poly is not None:
        rr, cc = fill_convex(poly, labels.shape)
        labels[rr, cc] = GROUND
    order = sorted(range(len(objects)), key=lambda i: -view.metres_per_pixel(objects[i].x, objects[i].y))
    for i in order:
        draw_object(view, objects[i], labels, 2 + i)
    return labels
