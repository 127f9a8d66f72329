"""Scoring a reconstructed scene program against a generated scene's ground truth.

Pixels alone reward a flat painting of the photo, so besides PSNR, SSIM and
LPIPS we score what a scene program is for: the objects' silhouettes (IoU of
foreground masks from the same ID pass as the truth), how many objects there
are, where they stand, how big and what colour they are (after optimal
matching), and how the camera sits. One photo cannot tell where the world's
origin is or which way is north, so positions are compared in each scene's own
camera frame, and the camera by its height, its tilt and roll against the
ground, and its lens; the key light by the direction it comes from, in the
same frames. The reconstruction is re-rendered with the target's exact
render settings, so a perfect program scores PSNR 60 and IoU 1.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.transform import Rotation

from seig.bench.generator import SceneCase
from seig.bench.masks import MaskError, read_mask, render_mask
from seig.tools.executor import BlenderExecutor, shared_executor
from seig.tools.metrics import score_images

BACKDROP_NAME = re.compile(r"ground|floor|backdrop|wall", re.IGNORECASE)
OBJECT_TYPES = ("MESH", "CURVE", "SURFACE", "META", "FONT")
SEEN_SHARE = 0.5  # a true object counts as seen when the reconstruction covers at least this share of its pixels


@dataclass
class SceneScore:
    """Every figure of one reconstruction; None where it could not be measured."""

    psnr: float | None = None
    ssim: float | None = None
    lpips: float | None = None
    iou: float | None = None
    objects_true: int = 0
    objects_found: int | None = None
    position_error: float | None = None
    size_error: float | None = None
    color_error: float | None = None
    camera_height_error: float | None = None
    camera_tilt_error: float | None = None
    camera_lens_error: float | None = None
    light_direction_error: float | None = None
    matches: list[dict] = field(default_factory=list)
    seen: list[dict] = field(default_factory=list)  # every true object in view: its shape, finish and the share of it the render covers
    render_path: str | None = None
    error: str | None = None

    @property
    def count_error(self) -> int | None:
        return None if self.objects_found is None else abs(self.objects_found - self.objects_true)

    @property
    def objects_seen(self) -> int | None:
        return sum(item["seen"] for item in self.seen) if self.seen else None

    def as_dict(self) -> dict:
        return {**asdict(self), "count_error": self.count_error, "objects_seen": self.objects_seen}


def is_backdrop(item: dict) -> bool:
    """Ground planes and walls are scenery, not objects: named so, or flat and large."""
    if BACKDROP_NAME.search(item["name"]):
        return True
    dims = sorted(item.get("dimensions", [0.0, 0.0, 0.0]))
    return dims[2] >= 4.0 and dims[0] <= 0.02 * dims[2]


def scene_objects(summary: dict) -> tuple[list[dict], dict[str, str]]:
    """The things in the photo, and which object each of their parts (parented geometry) belongs to.

    A table built as a top with four legs parented to it is one object, as it is in the truth.
    """
    items = {o["name"]: o for o in summary.get("objects", [])}

    def owner(name: str) -> str:
        seen = set()
        while items.get(name, {}).get("parent") in items and name not in seen:
            seen.add(name)
            name = items[name]["parent"]
        return name

    solid = [o for o in items.values() if o["type"] in OBJECT_TYPES and not is_backdrop(o)]
    groups: dict[str, list[dict]] = {}
    for item in solid:
        groups.setdefault(owner(item["name"]), []).append(item)
    roots, members = [], {}
    for head, parts in groups.items():
        root = next((p for p in parts if p["name"] == head), parts[0])  # an empty's parts: its first part stands for it
        roots.append(root)
        members.update((p["name"], root["name"]) for p in parts if p is not root)
    return roots, members


def objects_seen(truth_objects: list[dict], truth_mask: np.ndarray, found_mask: np.ndarray) -> list[dict]:
    """Each true object the target shows, with the share of its pixels the reconstruction's objects cover.

    A count says how many objects a scene has, not which: this says which kinds
    (a metal ring, a snowman) a reconstruction misses.
    """
    foreground = found_mask > 0
    seen = []
    for index, obj in enumerate(truth_objects, start=1):
        pixels = truth_mask == index
        if not pixels.any():
            continue  # hidden behind others in the target
        coverage = float(foreground[pixels].mean())
        seen.append({"name": obj["name"], "shape": obj["shape"], "finish": obj["finish"], "coverage": round(coverage, 3), "seen": coverage >= SEEN_SHARE})
    return seen


def foreground_iou(a: np.ndarray, b: np.ndarray) -> float:
    fa, fb = a > 0, b > 0
    union = np.logical_or(fa, fb).sum()
    return 1.0 if union == 0 else float(np.logical_and(fa, fb).sum() / union)


def _size_error(true_dims, found_dims) -> float:
    """Mean relative error of the sorted bounding dimensions, so a turned box is not penalised."""
    t, f = np.sort(np.asarray(true_dims, float)), np.sort(np.asarray(found_dims, float))
    return float(np.mean(np.abs(f - t) / np.maximum(t, 1e-3)))


def _base_color(item: dict, materials: dict) -> list[float] | None:
    for name in item.get("materials", []):
        color = materials.get(name, {}).get("base_color")
        if color is not None:
            return color
    return None


class CameraFrame:
    """World points as a camera sees them: the frame in which two reconstructions of one photo agree."""

    def __init__(self, location, rotation) -> None:
        self.location = np.asarray(location, float)
        self.rotation = Rotation.from_euler("xyz", rotation)  # Blender's XYZ Euler

    def points(self, world: np.ndarray) -> np.ndarray:
        return self.rotation.inv().apply(np.asarray(world, float) - self.location)

    @property
    def up(self) -> np.ndarray:
        """The world's up direction in camera coordinates: tilt and roll, whatever the heading."""
        return self.rotation.inv().apply([0.0, 0.0, 1.0])


def _camera(summary: dict) -> dict | None:
    return next((o for o in summary.get("objects", []) if o["name"] == summary.get("camera")), None)


def match_objects(
    truth_objects: list[dict], found: list[dict], materials: dict, frames: tuple[CameraFrame, CameraFrame] | None = None
) -> list[dict]:
    """Pair true and found objects by least total centre distance (Hungarian matching), in camera frames if given."""
    if not truth_objects or not found:
        return []
    centres_t = np.array([o["center"] for o in truth_objects], float)
    centres_f = np.array([o.get("center", o["location"]) for o in found], float)
    if frames is not None:
        centres_t, centres_f = frames[0].points(centres_t), frames[1].points(centres_f)
    cost = np.linalg.norm(centres_t[:, None, :] - centres_f[None, :, :], axis=2)
    matches = []
    for i, j in zip(*linear_sum_assignment(cost)):
        true_obj, found_obj = truth_objects[i], found[j]
        color = _base_color(found_obj, materials)
        matches.append(
            {
                "truth": true_obj["name"],
                "found": found_obj["name"],
                "position_error": float(cost[i, j]),
                "size_error": _size_error(true_obj["dimensions"], found_obj.get("dimensions", [0, 0, 0])),
                "color_error": None
                if color is None
                else float(np.linalg.norm(np.subtract(color, true_obj["base_color"]))),
            }
        )
    return matches


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _camera_errors(true_cam: dict, camera: dict, frames: tuple[CameraFrame, CameraFrame]) -> tuple[float, float, float | None]:
    """Height above the ground (m), tilt-and-roll (degrees between the two cameras' views of up), lens (mm)."""
    height = abs(camera["location"][2] - true_cam["location"][2])
    cosine = float(np.clip(np.dot(frames[0].up, frames[1].up), -1.0, 1.0))
    lens = abs(camera["lens"] - true_cam["lens"]) if "lens" in camera else None
    return height, float(np.degrees(np.arccos(cosine))), lens


def _towards_light(light: dict, centre: np.ndarray) -> np.ndarray | None:
    """Unit vector from the objects' centre towards a light: a sun by its rotation, a lamp by where it stands."""
    if light["kind"] == "SUN":
        towards = Rotation.from_euler("xyz", light["rotation"]).apply([0.0, 0.0, 1.0])  # a sun shines along its -Z
    else:
        towards = np.subtract(light["location"], centre)
    length = float(np.linalg.norm(towards))
    return towards / length if length > 1e-9 else None


def _reaching(light: dict, centre: np.ndarray) -> float:
    """Roughly the light a lamp or sun sends to the objects' centre: what tells the key light from a fill."""
    if light["kind"] == "SUN":
        return light["energy"]
    spread = math.pi if light["kind"] == "AREA" else 4 * math.pi
    return light["energy"] / (spread * max(float(np.sum(np.subtract(light["location"], centre) ** 2)), 1e-6))


def _key_light_direction(lights: list[dict], centre: np.ndarray) -> np.ndarray | None:
    """Where the strongest light (``kind``, ``energy``, ``location``, ``rotation``) comes from, seen from the objects."""
    if not lights:
        return None
    return _towards_light(max(lights, key=lambda light: _reaching(light, centre)), centre)


def _light_error(truth: dict, summary: dict, found: list[dict], frames: tuple[CameraFrame, CameraFrame]) -> float | None:
    """Degrees between where the true and the found key light come from, each in its own camera's frame."""
    if not truth["objects"] or not found:
        return None
    true_lights = [{"kind": light["type"], **light} for light in truth["lights"]]
    lights = [{"kind": o["light"], **o} for o in summary.get("objects", []) if o["type"] == "LIGHT" and "energy" in o]
    true_dir = _key_light_direction(true_lights, np.mean([o["center"] for o in truth["objects"]], axis=0))
    found_dir = _key_light_direction(lights, np.mean([o.get("center", o["location"]) for o in found], axis=0))
    if true_dir is None or found_dir is None:
        return None
    cosine = float(np.clip(np.dot(frames[0].rotation.inv().apply(true_dir), frames[1].rotation.inv().apply(found_dir)), -1.0, 1.0))
    return float(np.degrees(np.arccos(cosine)))


def score_program(
    case: SceneCase,
    program: str,
    out_dir: Path,
    *,
    executor: BlenderExecutor | None = None,
    lpips_weights: str | None = None,
) -> SceneScore:
    """Render ``program`` as the target was rendered and score it against ``case``."""
    executor = executor or shared_executor()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_objects = case.truth["objects"]
    score = SceneScore(objects_true=len(truth_objects))
    render_path = out_dir / "scored.png"
    result = executor.run(program, render=case.render_spec, render_out=render_path)
    if not result.ok:
        score.error = result.error
        return score
    score.render_path = str(render_path)
    images = score_images(case.target_path, render_path, lpips_weights)
    score.psnr, score.ssim, score.lpips = images.psnr, images.ssim, images.lpips

    found, members = scene_objects(result.scene)
    score.objects_found = len(found)
    try:
        names = [o["name"] for o in found]
        mask = render_mask(executor, program, names, (case.resolution, case.resolution), out_dir / "mask.png", members)
        truth_mask = read_mask(case.mask_path)
        score.iou = foreground_iou(truth_mask, mask)
        score.seen = objects_seen(truth_objects, truth_mask, mask)
    except MaskError as exc:
        score.error = str(exc)

    camera, true_cam = _camera(result.scene), case.truth["camera"]
    frames = None
    if camera is not None and "rotation" in camera:
        frames = (CameraFrame(true_cam["location"], true_cam["rotation"]), CameraFrame(camera["location"], camera["rotation"]))
        score.camera_height_error, score.camera_tilt_error, score.camera_lens_error = _camera_errors(true_cam, camera, frames)
        score.light_direction_error = _light_error(case.truth, result.scene, found, frames)
    score.matches = match_objects(truth_objects, found, result.scene.get("materials", {}), frames)
    score.position_error = _mean(m["position_error"] for m in score.matches)
    score.size_error = _mean(m["size_error"] for m in score.matches)
    score.color_error = _mean(m["color_error"] for m in score.matches)
    return score
