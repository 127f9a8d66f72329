"""Convex hulls and their pixels, compiled: the inner loop of every silhouette and shadow fit.

Fits compare tens of thousands of candidate outlines with the photo's
segmentation; in NumPy and Qhull each hull and each fill cost 40-80
microseconds, nearly all of it call overhead for a few dozen points. Compiled
with numba they cost a few, with the same arithmetic, so the same corners and
pixels come out.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


@njit(cache=True)
def convex_hull(points: np.ndarray) -> np.ndarray:
    """The hull's corners, counter-clockwise as Qhull gives them (points on its edges left out); fewer than 3 when flat.

    Andrew's monotone chain: sort, then keep left turns along the lower and the upper side.
    """
    n = points.shape[0]
    if n < 3:
        return points[:0].copy()
    order = np.argsort(points[:, 1], kind="mergesort")
    order = order[np.argsort(points[order, 0], kind="mergesort")]  # by x, ties by y
    chain = np.empty(2 * n, dtype=np.int64)
    k = 0
    for i in order:
        while k >= 2 and _cross(points[chain[k - 2]], points[chain[k - 1]], points[i]) <= 0:
            k -= 1
        chain[k] = i
        k += 1
    lower = k + 1
    for j in range(n - 2, -1, -1):
        i = order[j]
        while k >= lower and _cross(points[chain[k - 2]], points[chain[k - 1]], points[i]) <= 0:
            k -= 1
        chain[k] = i
        k += 1
    return points[chain[: k - 1]].copy()


@njit(cache=True)
def convex_pixels(poly: np.ndarray, height: int, width: int, top: int, left: int) -> tuple[int, int, np.ndarray]:
    """(first row, first column, mask) of the pixel centres inside a convex polygon (edges included), within a
    ``height`` x ``width`` image whose top-left pixel is (``top``, ``left``); the mask is empty when none are.

    Row by row, every edge bounds the inside from one side, so each row's inside is one span of columns.
    """
    n = poly.shape[0]
    xs, ys = poly[:, 0] - left, poly[:, 1] - top
    r0, r1 = max(int(np.floor(ys.min())), 0), min(int(np.ceil(ys.max())), height)
    c0, c1 = max(int(np.floor(xs.min())), 0), min(int(np.ceil(xs.max())), width)
    empty = np.zeros((0, 0), dtype=np.bool_)
    if c1 <= c0 or r1 <= r0:
        return 0, 0, empty
    twice_area = 0.0
    for i in range(n):
        j = (i + 1) % n
        twice_area += xs[i] * (ys[j] - ys[i]) - ys[i] * (xs[j] - xs[i])
    if twice_area == 0.0:
        return 0, 0, empty
    sign = 1.0 if twice_area > 0 else -1.0
    inside = np.zeros((r1 - r0, c1 - c0), dtype=np.bool_)
    for r in range(r0, r1):
        low, high = -np.inf, np.inf
        for i in range(n):
            j = (i + 1) % n
            ex, ey = xs[j] - xs[i], ys[j] - ys[i]
            a = sign * ey
            b = sign * (ex * (r + 0.5 - ys[i]) + ey * xs[i])
            if a > 0:
                high = min(high, b / a)
            elif a < 0:
                low = max(low, b / a)
            elif b < 0:  # outside an edge parallel to the row
                low = np.inf
        for c in range(c0, c1):
            inside[r - r0, c - c0] = low <= c + 0.5 <= high
    return r0, c0, inside
