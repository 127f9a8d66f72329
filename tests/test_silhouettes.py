"""Silhouette fitting on drawn scenes: merged regions split in two, parted pieces joined, rings fitted as rings (hole seen or not), table tops lifted onto their legs and kept there, a table judged against a box drawn in its place.

The images are drawn with the backend's own silhouettes under the camera the
analysis first assumes when no horizon shows (so a fit can be exact), each
object a flat colour of one hue: what hue cannot tell apart, shape must.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from seig.models.classical.analysis import analyse_image
from seig.models.classical.backend import ClassicalBackend
from seig.models.classical.camera import SKY, View, fill_convex, label_map
from seig.models.classical.estimate import fit_geometry
from seig.models.classical.fit import UNSEEN_HORIZON_PITCH, RegionTarget, fit_shapes, initial_camera, refine_object
from seig.models.classical.join import clusters, join_fragments
from seig.models.classical.scene import Camera, Ground, Scene, SceneObject
from seig.models.classical.search import camera_search, refit_objects, rival_shapes
from seig.models.classical.split import split_merged

SIDE = 160
CAMERA = Camera(pitch=UNSEEN_HORIZON_PITCH)  # what ``initial_camera`` assumes when the floor fills the view
FLOOR = np.array([0.42, 0.45, 0.4])


def _placed(view: View, u: float, v: float, **params) -> SceneObject:
    x, y = view.ground_point(u, v)
    return SceneObject(name="drawn", x=x, y=y, **params)


def _draw(objects: list[SceneObject], colours: list[tuple[float, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """An image of flat-coloured objects on a floor filling the frame, and the label map it was drawn from."""
    labels = label_map(View(CAMERA, SIDE, SIDE), Ground(), objects)
    assert not (labels == SKY).any()  # the floor fills the frame: the case needs the camera the analysis then assumes
    image = np.ones((SIDE, SIDE, 3)) * FLOOR * np.linspace(0.75, 1.0, SIDE)[:, None, None]
    for k, colour in enumerate(colours):
        image[labels == 2 + k] = colour
    return image, labels


def _stance(table: SceneObject) -> float:
    """A table's half height over its longer half extent."""
    return table.sz / max(table.sx, table.sy)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_two_boxes_of_one_hue_read_as_one_region_are_split_in_two():
    view = View(CAMERA, SIDE, SIDE)
    back = _placed(view, 60, 80, shape="cube", sx=0.35, sy=0.35, sz=0.35, rotation=20.0)
    front = _placed(view, 100, 115, shape="cube", sx=0.4, sy=0.4, sz=0.4, rotation=35.0)
    lilac = np.array([0.72, 0.62, 0.85])
    image, labels = _draw([back, front], [tuple(lilac), tuple(0.75 * lilac)])
    analysis = analyse_image(image)
    assert len(analysis.regions) == 1  # the case: one hue, so segmentation cannot part them

    split = split_merged(analysis)

    assert len(split.regions) == 2
    for drawn in (labels == 2, labels == 3):
        assert max(_iou(region.mask, drawn) for region in split.regions) > 0.85
    assert set(np.unique(split.labels[split.labels >= 2])) == {2, 3}


def test_a_box_whose_faces_differ_in_brightness_stays_one_region():
    view = View(CAMERA, SIDE, SIDE)
    box = _placed(view, 80, 110, shape="cube", sx=0.45, sy=0.45, sz=0.45, rotation=30.0)
    image, labels = _draw([box], [(0.5, 0.3, 0.25)])
    turn = np.radians(box.rotation)
    corners = np.array([[sx * box.sx, sy * box.sy] for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]) @ np.array(
        [[np.cos(turn), np.sin(turn)], [-np.sin(turn), np.cos(turn)]]
    )
    uv, _ = view.project(np.c_[corners + (box.x, box.y), np.full(4, 2 * box.sz)])
    rows, cols = fill_convex(uv, labels.shape)
    image[rows, cols] = (0.8, 0.48, 0.4)  # the top face, lit brighter than the sides
    analysis = analyse_image(image)
    assert len(analysis.regions) == 1

    assert split_merged(analysis) is analysis


@pytest.mark.parametrize(("u", "v", "outer", "tube"), [(80, 90, 0.5, 0.1), (90, 110, 0.7, 0.12), (80, 80, 0.6, 0.08)])
def test_a_lying_ring_is_fitted_as_a_ring_to_its_outline(u, v, outer, tube):
    """A disc fitted to a ring is held back by the hole; a ring started only from that disc shrank into a corner."""
    view = View(CAMERA, SIDE, SIDE)
    ring = _placed(view, u, v, shape="torus", sx=outer, sy=outer, sz=tube)
    image, labels = _draw([ring], [(0.9, 0.75, 0.2)])
    analysis = analyse_image(image)
    assert len(analysis.regions) == 1 and analysis.regions[0].has_hole

    scene, _ = fit_geometry(analysis, Scene(camera=CAMERA))

    assert scene.objects[0].shape == "torus"
    assert _iou(label_map(view, Ground(), scene.objects) >= 2, labels >= 2) > 0.9


@pytest.mark.parametrize(
    "drawn",
    [
        dict(shape="torus", sx=0.6, sy=0.6, sz=0.12, standing=True, rotation=90.0),  # standing, seen edge on
        dict(shape="torus", sx=0.6, sy=0.6, sz=0.25),  # lying, so thick the hole is hidden from this height
    ],
)
def test_a_ring_whose_hole_does_not_show_is_still_fitted_as_a_ring(drawn):
    view = View(CAMERA, SIDE, SIDE)
    image, labels = _draw([_placed(view, 80, 110, **drawn)], [(0.9, 0.75, 0.2)])
    analysis = analyse_image(image)
    assert len(analysis.regions) == 1 and not analysis.regions[0].has_hole  # the case

    scene, _ = fit_geometry(analysis, Scene(camera=CAMERA))

    assert scene.objects[0].shape == "torus"
    assert _iou(label_map(view, Ground(), scene.objects) >= 2, labels >= 2) > 0.9


@pytest.mark.parametrize(
    "drawn",
    [dict(shape="sphere", sx=0.4, sy=0.4, sz=0.4), dict(shape="cylinder", sx=0.4, sy=0.4, sz=0.3), dict(shape="cylinder", sx=0.5, sy=0.5, sz=0.12)],
)
def test_round_things_without_a_hole_are_not_taken_for_rings(drawn):
    """A ball, a drum and a flat disc outline nearly as a ring would; the ring must not win them."""
    view = View(CAMERA, SIDE, SIDE)
    image, _ = _draw([_placed(view, 80, 110, **drawn)], [(0.9, 0.75, 0.2)])

    scene, _ = fit_geometry(analyse_image(image), Scene(camera=CAMERA))

    assert scene.objects[0].shape == drawn["shape"]


def test_a_ring_parted_into_arcs_is_joined_again_and_fitted_as_one_ring():
    """Stripes of floor across a ring (as its shaded stretches read) part it into arcs that each pass as an object."""
    view = View(CAMERA, SIDE, SIDE)
    ring = _placed(view, 80, 100, shape="torus", sx=0.6, sy=0.6, sz=0.12)
    image, labels = _draw([ring], [(0.9, 0.75, 0.2)])
    on_ring = labels >= 2
    for cut in (np.s_[:, 60:63], np.s_[:, 100:103], np.s_[95:98, :]):
        image[cut] = np.where(on_ring[cut][..., None], 0.9 * FLOOR, image[cut])
    analysis = analyse_image(image)
    assert len(analysis.regions) >= 4  # the case: the arcs come out as objects of their own

    joined = join_fragments(analysis)

    assert len(joined.regions) == 1
    scene, _ = fit_geometry(joined, Scene(camera=CAMERA))
    assert [obj.shape for obj in scene.objects] == ["torus"]
    assert _iou(label_map(view, Ground(), scene.objects) >= 2, on_ring) > 0.9


def test_objects_of_one_hue_side_by_side_are_not_joined():
    """A box and a drum of one colour side by side are two objects: one primitive for both gets more wrong than two."""
    view = View(CAMERA, SIDE, SIDE)
    left = _placed(view, 55, 110, shape="cube", sx=0.3, sy=0.3, sz=0.3, rotation=10.0)
    right = _placed(view, 95, 110, shape="cylinder", sx=0.3, sy=0.3, sz=0.4)
    image, _ = _draw([left, right], [(0.3, 0.45, 0.8), (0.3, 0.45, 0.8)])
    analysis = analyse_image(image)
    assert len(analysis.regions) == 2
    assert clusters([region.mask for region in analysis.regions]) == [[0, 1]]  # near enough to be weighed

    assert join_fragments(analysis) is analysis


def test_a_table_top_is_lifted_onto_its_legs_not_laid_flat_on_the_floor():
    """The top alone outlines like a slab on the floor; only the legs say how high it stands."""
    view = View(CAMERA, SIDE, SIDE)
    table = _placed(view, 80, 115, shape="table", sx=0.6, sy=0.35, sz=0.35, rotation=25.0)
    image, _ = _draw([table], [(0.45, 0.75, 0.45)])
    analysis = analyse_image(image)
    assert len(analysis.regions) == 1
    assert initial_camera(analysis) == CAMERA

    scene, _ = fit_geometry(analysis, Scene(camera=CAMERA))

    fitted = scene.objects[0]
    assert fitted.shape == "table"
    assert abs(fitted.sz / table.sz - 1) < 0.2, fitted


@pytest.mark.parametrize("u, v, sx, sy, sz, rotation", [(41.06, 109.94, 0.437, 0.481, 0.445, 44.22), (40.27, 120.85, 0.469, 0.293, 0.455, 86.53)])
def test_a_table_is_fitted_from_every_turn_of_its_box_not_only_the_best(u, v, sx, sy, sz, rotation):
    """Here the box that outlines the table best starts its table fit in a wrong valley, a third too low."""
    view = View(CAMERA, SIDE, SIDE)
    table = _placed(view, u, v, shape="table", sx=sx, sy=sy, sz=sz, rotation=rotation)
    image, _ = _draw([table], [(0.45, 0.75, 0.45)])
    analysis = analyse_image(image)

    scene, reports = fit_geometry(analysis, Scene(camera=CAMERA))

    assert scene.objects[0].shape == "table"
    assert abs(scene.objects[0].sz / table.sz - 1) < 0.1, scene.objects[0]
    assert reports[0]["loss"] < 0.05


def test_a_table_refitted_under_another_camera_starts_from_its_fit_and_keeps_its_proportions():
    """The camera search refits every object under nearby cameras; a table's footprint guess floats its top."""
    view = View(CAMERA, SIDE, SIDE)
    table = _placed(view, 90, 120, shape="table", sx=0.5, sy=0.3, sz=0.4, rotation=80.0)
    image, _ = _draw([table], [(0.45, 0.75, 0.45)])
    analysis = analyse_image(image)
    scene, _ = fit_geometry(analysis, Scene(camera=CAMERA))
    assert scene.objects[0].shape == "table"

    refitted, _ = refit_objects(analysis, scene, replace(CAMERA, lens=38.0, pitch=CAMERA.pitch - 2.0))

    lifted = refitted.objects[0]
    assert abs(_stance(lifted) / _stance(table) - 1) < 0.3, lifted


def test_a_box_polished_onto_a_tables_outline_has_the_table_as_its_closest_rival():
    """Tables fitted from the region alone stop far short here; a table started from the box, where it stands, does not."""
    view = View(CAMERA, SIDE, SIDE)
    table = _placed(view, 90, 120, shape="table", sx=0.5, sy=0.3, sz=0.4, rotation=80.0)
    image, _ = _draw([table], [(0.45, 0.75, 0.45)])
    analysis = analyse_image(image)
    target = RegionTarget.build(analysis, 0)
    box, box_loss = refine_object(view, target, replace(table, shape="cube", region=0), 200)
    assert fit_shapes(view, target, analysis.regions[0], "drawn", 30)["table"][1] > box_loss + 0.2  # the case: no table from the region comes near

    closest = rival_shapes(analysis, view, box)[0]

    assert closest.shape == "table"


def test_the_camera_search_on_a_rendered_scene_finds_its_pitch_though_one_objects_fit_stalls_from_its_closer_start():
    """The bench's 1006 (true pitch 25.0 degrees): refitted from whichever start looked closer, a copper cone half hidden behind
    a ball stalled under the right camera, and its error alone, outweighing the five other objects', chose a camera 4 degrees too flat."""
    target = Path(__file__).parent / "data" / "lamp_pool.png"
    scene, _, analysis = ClassicalBackend().estimate(target)
    assert any(obj.shape == "cone" for obj in scene.objects)  # the case: the cone is seen

    searched = camera_search(analysis, scene)

    assert abs(searched.camera.pitch - 25.0) < 2.0, searched.camera
