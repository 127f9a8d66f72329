"""The compiled hull and fill agree with Qhull and with a plain point-in-polygon test."""

import numpy as np
from scipy.spatial import ConvexHull, QhullError
from skimage.measure import points_in_poly

from seig.models.classical.raster import convex_hull, convex_pixels


def _same_cycle(a: np.ndarray, b: np.ndarray) -> bool:
    if len(a) != len(b):
        return False
    start = np.nonzero((b == a[0]).all(axis=1))[0]
    return len(start) == 1 and np.array_equal(np.roll(b, -start[0], axis=0), a)


def test_hull_has_qhulls_corners_in_qhulls_order():
    rng = np.random.default_rng(1)
    for trial in range(300):
        points = rng.normal(size=(int(rng.integers(3, 50)), 2)) * 20 + 50
        if trial % 2:
            points = np.round(points / 4) * 4  # repeated and collinear points
        try:
            corners = points[ConvexHull(points).vertices]
        except QhullError:  # all on one line
            assert len(convex_hull(points)) < 3
            continue
        assert _same_cycle(convex_hull(points), corners)


def test_flat_point_sets_have_no_hull():
    line = np.stack([np.arange(6.0), 2 * np.arange(6.0)], axis=1)
    assert len(convex_hull(line)) < 3
    assert len(convex_hull(line[:2])) < 3


def test_fill_marks_exactly_the_pixel_centres_inside():
    rng = np.random.default_rng(2)
    rows, cols = np.mgrid[0:40, 0:50]
    centres = np.stack([cols.ravel() + 0.5, rows.ravel() + 0.5], axis=1)
    for _ in range(200):
        hull = convex_hull(rng.normal(size=(12, 2)) * rng.uniform(2, 20) + rng.uniform(-5, 55, size=2))
        top, left = int(rng.integers(-3, 4)), int(rng.integers(-3, 4))
        r0, c0, inside = convex_pixels(hull, 40, 50, top, left)
        drawn = np.zeros((40, 50), dtype=bool)
        drawn[r0 : r0 + inside.shape[0], c0 : c0 + inside.shape[1]] = inside
        expected = points_in_poly(centres, hull - [left, top]).reshape(40, 50)
        assert np.array_equal(drawn, expected)
