"""From the photo's analysis to a first scene estimate: geometry, colours and a light.

Shading follows Cycles' conventions (checked against renders): a diffuse
surface of albedo a under a uniform world of colour W shows a*W, and a sun of
strength S at elevation e adds a*S*sin(e)/pi. So floor in shadow over floor in
light gives the sun's share of the lighting, and the shadows the fitted shapes
would cast, matched to the photo's, give the sun's azimuth and elevation.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import replace

import numpy as np
from skimage.color import deltaE_cie76, rgb2lab

from seig.models.classical.analysis import Analysis
from seig.models.classical.camera import GROUND, View, hat_pixels
from seig.models.classical.fit import RegionTarget, fit_ground, fit_region, outlined
from seig.models.classical.scene import HAT_START, Light, Scene, SceneObject, albedo_within
from seig.models.classical.shadows import fit_sun_direction
from seig.tools.images import to_linear

FLOOR_ALBEDO = 0.3  # assumed when no sky shows the world's light: floors are mid-grey more often than white
WORLD_SHARE = 0.4  # the world's assumed share of the lit floor's light when no shadow shows it either
DIRECT_RANGE = (0.3, 30.0)  # W/m2 the key gives the floor: a faint lamp to a bright sun
SHADOWS_TRUSTED = 0.75  # shadow-fit loss (share of the seen shadow missed) below which the shadows' side of the light is believed
HAT_CONTRAST = 15.0  # CIE76 distance from the snow's, floor's and sky's colours at which a pixel on a snowman's head is hat
HAT_SHOWING = 0.4  # share of a drawn hat's area such pixels must fill
LAMP_SIDE_GAP = 50.0  # degrees of azimuth between a lamp and those shadows that make the lamp a highlight, not a light


def colour_name(srgb) -> str:
    h, s, v = colorsys.rgb_to_hsv(*[float(c) for c in srgb])
    if v < 0.15:
        return "black"
    if s < 0.18:
        return "white" if v > 0.75 else "grey"
    names = ("red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "red")
    bounds = (0.04, 0.11, 0.19, 0.45, 0.54, 0.72, 0.83, 0.96, 1.01)
    return next(n for n, b in zip(names, bounds) if h < b)


def unique_name(base: str, used: set[str]) -> str:
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    used.add(name)
    return name


def fit_geometry(analysis: Analysis, scene: Scene, evaluations: int = 120) -> tuple[Scene, list[dict]]:
    """Shapes, sizes and places of every region, and the floor square; returns per-object fit reports."""
    scene = scene.copy()
    view = View(scene.camera, analysis.width, analysis.height)
    objects, reports, used = [], [], set()
    for k, region in enumerate(analysis.regions):
        target = RegionTarget.build(analysis, k)
        obj, loss, by_shape = fit_region(view, target, region, f"object_{k}", evaluations)
        obj.name = unique_name(f"{colour_name(region.color)}_{obj.shape}", used)
        obj.region = k
        objects.append(obj)
        reports.append({"name": obj.name, "loss": round(loss, 4), "shapes": by_shape})
    scene.objects = objects
    scene.ground, _ = fit_ground(view, analysis, scene)
    return scene, reports


def estimate_light(analysis: Analysis, scene: Scene) -> Light:
    """The key light: a lamp over the floor's brightest spot, else a sun aimed by the shadows the fitted shapes would cast.

    A lamp's shadows point away from it as a sun's do, so a bright spot on
    another side of the objects than shadows that fit well put the light (a
    glossy floor's highlight under a sun) is not taken for a lamp. The
    strength is left to ``estimate_colours``, which reads the key's share of
    the lit floor's light once the floor's albedo is known.
    """
    sun = Light()
    fitted = fit_sun_direction(analysis, scene)
    if fitted is not None:
        sun.azimuth, sun.elevation = fitted[0], float(np.clip(fitted[1], 15, 80))
    lamp = estimate_lamp(analysis, replace(scene, light=sun))
    if lamp is None:
        return sun
    if fitted is not None and fitted[2] < SHADOWS_TRUSTED and abs((lamp.azimuth - fitted[0] + 180) % 360 - 180) > LAMP_SIDE_GAP:
        return sun
    return lamp


def estimate_lamp(analysis: Analysis, scene: Scene) -> Light | None:
    """A lamp above the floor's brightest spot, as high as the brightness falloff around it says.

    Under a point lamp at height h the floor's irradiance falls as (h^2 / (r^2 + h^2))^1.5
    with distance r from the spot below it, so each floor pixel's brightness,
    relative to the peak, gives an estimate of h. The world lights the floor
    evenly on top of that; floor in shadow shows how much, and it is taken off
    first, or the falloff looks flatter and the lamp too high.
    """
    if analysis.floor_light is None or not scene.objects:
        return None
    floor = (analysis.labels == GROUND) & ~analysis.shadow
    if floor.sum() < 30:
        return None
    light = analysis.floor_light
    peak = float(light[floor].max())
    if peak < 1.5 * float(np.percentile(light[floor], 5)):
        return None  # evenly lit floor: a sun, not a lamp
    shade = (analysis.labels == GROUND) & analysis.shadow
    ambient = float(np.median(to_linear(analysis.image[shade]).mean(axis=-1))) if shade.sum() >= 30 else 0.0
    ambient = min(ambient, 0.5 * peak)
    view = View(scene.camera, analysis.width, analysis.height)
    rows, cols = np.nonzero(floor & (light >= peak * 0.999))
    spot = view.ground_point(cols.mean() + 0.5, rows.mean() + 0.5)
    if spot is None:
        return None
    heights = []
    rows, cols = np.nonzero(floor)
    step = max(1, rows.size // 800)
    for v, u in zip(rows[::step], cols[::step]):
        q = (light[v, u] - ambient) / (peak - ambient)
        hit = view.ground_point(u + 0.5, v + 0.5)
        if hit is None or not 0.15 < q < 0.9:
            continue
        r = math.hypot(hit[0] - spot[0], hit[1] - spot[1])
        heights.append(r / math.sqrt(q ** (-2 / 3) - 1))
    if len(heights) < 10:
        return None
    height = float(np.clip(np.median(heights), 0.3, 20.0))
    cx, cy = scene.centre()
    dx, dy = spot[0] - cx, spot[1] - cy
    distance = math.sqrt(dx * dx + dy * dy + height * height)
    return Light(
        kind="POINT",
        azimuth=math.degrees(math.atan2(dy, dx)) % 360,
        elevation=math.degrees(math.atan2(height, math.hypot(dx, dy))),
        distance=distance,
        strength=4 * math.pi * distance**3 / height * direct_light(scene.light),  # as much light on the scene centre as now
        size=0.3,
    )


def direct_light(light: Light) -> float:
    """Irradiance (W/m2) the light gives the floor at the scene centre."""
    lift = math.sin(math.radians(light.elevation))
    if light.kind == "SUN":
        return light.strength * lift
    per_steradian = light.strength / (4 * math.pi if light.kind == "POINT" else math.pi)
    return per_steradian * lift / max(light.distance, 0.1) ** 2


def _world_light(analysis: Analysis) -> np.ndarray:
    """The world's linear colour: the sky's where it shows, else floor in shadow over an assumed floor albedo.

    Floor in shadow is albedo times world light; with no sky to pin the world,
    light and albedo trade off freely, and assuming a white floor leaves every
    albedo at its ceiling and every light too weak.
    """
    if analysis.world is not None:
        return to_linear(analysis.world)
    if analysis.ground_shadow is not None:
        return to_linear(analysis.ground_shadow) / FLOOR_ALBEDO
    return to_linear(analysis.ground_lit) * WORLD_SHARE / FLOOR_ALBEDO


def estimate_colours(analysis: Analysis, scene: Scene) -> Scene:
    """Albedos from observed colours divided by the light reaching them; the key made to agree.

    Floor in shadow sees the world alone, so it gives the floor's albedo without
    any light model; lit floor over that albedo is then the light objects get,
    and the key's strength is set to supply the part the world does not.
    """
    scene = scene.copy()
    world = _world_light(analysis)
    scene.world = [float(c) for c in world]
    lit_floor = to_linear(analysis.ground_lit)
    if analysis.ground_shadow is not None:
        floor = np.clip(to_linear(analysis.ground_shadow) / np.maximum(world, 1e-3), 0.02, 0.95)
        irradiance = np.maximum(lit_floor / floor, world)
        direct = float(np.clip(math.pi * np.mean(irradiance - world), *DIRECT_RANGE))
        if direct_light(scene.light) > 1e-6:
            scene.light.strength *= direct / direct_light(scene.light)
    else:
        irradiance = world + direct_light(scene.light) / math.pi
        floor = np.clip(lit_floor / np.maximum(irradiance, 1e-3), 0.02, 0.95)
    scene.ground.color = [float(c) for c in floor]
    view = View(scene.camera, analysis.width, analysis.height)
    for _, obj in outlined(scene, analysis):
        region = analysis.regions[obj.region]
        albedo = to_linear(region.lit_color) / np.maximum(irradiance * 0.9, 1e-3)
        obj.color = [float(c) for c in np.clip(albedo, 0.01, 0.95)]
        obj.roughness = 0.2 if region.highlight > 0.01 else 0.5
        if obj.shape == "snowman":
            obj.hat_color = read_hat(analysis, view, obj, obj.region)
    return scene


def read_hat(analysis: Analysis, view: View, obj: SceneObject, k: int) -> list[float] | None:
    """The albedo of snowman k's hat, or None when the photo shows none on its head.

    The silhouette fit cannot tell: a dark hat often reads as floor in shadow,
    and a head stretched over a hat draws the hat a hat's height too high. So
    the hat is looked for where it is drawn and a hat's height below: pixels
    there that look like neither the snow nor the floor nor the sky. It is
    lit like the snow, so its albedo is the snow's scaled by how much darker it looks.
    """
    worn = replace(obj, hat_color=obj.hat_color or list(HAT_START))
    labels, region = analysis.labels, analysis.regions[k]
    drawn = hat_pixels(view, worn, labels.shape)
    rows = np.nonzero(drawn.any(axis=1))[0]
    if rows.size == 0:
        return obj.hat_color  # out of view: nothing to judge by
    lower = np.zeros_like(drawn)
    lower[rows.size :] = drawn[: drawn.shape[0] - rows.size]
    near = (drawn | lower) & ((labels < 2) | (labels == 2 + k))  # not hidden by another object
    backgrounds = [c for c in (analysis.ground_lit, analysis.ground_shadow, analysis.world) if c is not None]
    unlike_snow, unlike_background = (_unlike(analysis.image[near], colours) for colours in ([region.lit_color, region.color], backgrounds))
    hat = unlike_snow & (unlike_background | (labels[near] == 2 + k))  # pixels the segmentation gave the object need not be unlike floor
    if hat.sum() < max(4, HAT_SHOWING * drawn.sum()):
        return None
    ratio = to_linear(np.median(analysis.image[near][hat], axis=0)) / np.maximum(to_linear(region.lit_color), 1e-3)
    return albedo_within(np.asarray(obj.color) * ratio)


def _unlike(pixels: np.ndarray, colours: list[np.ndarray]) -> np.ndarray:
    """Which sRGB pixels are at least HAT_CONTRAST (CIE76) from every one of the colours."""
    lab = rgb2lab(pixels)
    return np.min([deltaE_cie76(lab, rgb2lab(np.asarray(c, dtype=float))) for c in colours], axis=0) >= HAT_CONTRAST


def grey_boxes(scene: Scene) -> Scene:
    """The scaffold: every object as a neutral box of its rough bounds."""
    boxed = scene.copy()
    boxed.objects = [
        SceneObject(
            name=obj.name,
            shape="cube",
            x=obj.x,
            y=obj.y,
            sx=obj.sx,
            sy=obj.sy if obj.shape in ("cube", "table") else (obj.sz if obj.shape == "torus" and obj.standing else obj.sx),
            sz=obj.top / 2,
            rotation=obj.rotation,
            color=[0.4, 0.4, 0.4],
        )
        for obj in scene.objects
    ]
    return boxed


def neutral_materials(scene: Scene) -> Scene:
    """Geometry without colour: every object the same matte grey."""
    plain = scene.copy()
    for obj in plain.objects:
        obj.color, obj.roughness, obj.metallic = [0.4, 0.4, 0.4], 0.5, 0.0
        if obj.hat_color is not None:
            obj.hat_color = [0.4, 0.4, 0.4]
    return plain
