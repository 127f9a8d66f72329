"""Light strengths and colours solved, not searched: a render is linear in each light's energy.

Render the scene lit by each source alone (key, fill, world); in linear light
the photo should be a non-negative mix of those images, channel by channel.
Least squares gives every source's strength and colour at once, for the price
of one render per source, where a pattern search would spend one per step.
The same solve also chooses *where* the light comes from, and what kind it
is: given lamps placed round the scene and suns from the same turns, each
rendered alone, the one or two that best explain the photo win, judged by
the picture each solve predicts (in sRGB, as the run is scored: a second
light always lowers the least-squares residual); and whether the key is a
bare lamp or a softbox, solved again as one.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
from scipy.linalg import block_diag
from scipy.optimize import nnls

from seig.models.classical.analysis import CLIPPED
from seig.models.classical.estimate import direct_light
from seig.models.classical.refine import Renderer
from seig.models.classical.scene import Light, Scene
from seig.models.classical.search import best, with_fill
from seig.tools.images import to_linear, to_srgb
from seig.tools.metrics import psnr

FILL_TURN = 180.0  # where a new fill lamp goes, in degrees round from the key: its shadow side
NEGLIGIBLE = 0.1  # a fill the solve turns down below this share of its first guess is dropped
RING = 8  # candidate lamps, and as many suns, round the scene, at even turns (fewer when the renderer has fewer renders left)
RING_ELEVATION = 50.0  # degrees: the middle of the 30-70 the generator's lights are drawn from (tuned on its seeds)
RING_SHARE = 0.5  # a candidate's first strength: this share of the key's light on the scene centre
SOFTBOX = 0.5  # a lamp's softbox twin has this side over its distance: the generator's 1.5-4 m at 4-7 m (tuned on its seeds)
LAMP_TINT = 0.2  # with a sky in view, a lamp's weakest channel is at least 1 - this of its strongest: a photo is white-balanced to its lamps (the generator's are within 0.15)


def _alone(scene: Scene, source: str) -> Scene:
    """The scene lit only by ``source`` ('key', 'fill' or 'world')."""
    lone = scene.copy()
    if source != "key":
        lone.light.strength = 0.0
    if source != "fill" and lone.fill is not None:
        lone.fill.strength = 0.0
    if source != "world":
        lone.world = [0.0, 0.0, 0.0]
    return lone


def _lit_by(scene: Scene, light: Light) -> Scene:
    """The scene lit by ``light`` alone: no other lamp, a black world."""
    lone = scene.copy()
    lone.light, lone.fill, lone.world = light, None, [0.0, 0.0, 0.0]
    return lone


def _solve(parts: list[np.ndarray], seen: np.ndarray, lamps: dict[int, list[float]] | None = None) -> tuple[np.ndarray, float]:
    """Non-negative gains per source and channel (sources x 3), and the squared residual.

    ``lamps`` maps a part's index to the colour its lamp had in that render; those
    lamps come out near white. Free per channel, a lamp's colour takes up whatever
    the albedos still get wrong (a key solved cyan for a floor drawn too red); held
    near white, that is left to the albedos, which the colour corrections after
    every solve put right object by object. Only worth it with a sky in view: the
    sky pins the world's colour, where otherwise the world would take up the tint.
    """
    gains, residual = np.ones((len(parts), 3)), 0.0
    for channel in range(3):
        basis = np.stack([part[:, channel] for part in parts], axis=1)
        gains[:, channel], norm = nnls(basis, seen[:, channel])
        residual += norm * norm
    if not lamps:
        return gains, residual
    rendered = {k: np.maximum(np.asarray(colour, dtype=float), 1e-3) for k, colour in lamps.items()}
    per_colour = {k: _near_white(gains[k] * colour) / colour for k, colour in rendered.items()}  # gain per channel of a near-white lamp
    # channels stacked: a lamp is one column (its colour fixed), any other source one column per channel
    blocks = [(part * per_colour[k]).T.reshape(-1, 1) if k in per_colour else block_diag(*part.T[:, :, None]) for k, part in enumerate(parts)]
    solved, norm = nnls(np.hstack(blocks), seen.T.ravel())
    for k, values in enumerate(np.split(solved, np.cumsum([block.shape[1] for block in blocks])[:-1])):
        gains[k] = values * per_colour[k] if k in per_colour else values
    return gains, norm * norm


def _near_white(light: np.ndarray) -> np.ndarray:
    """A lamp's colour with each channel raised to at least 1 - LAMP_TINT of its strongest (white when it is off)."""
    peak = light.max()
    if peak <= 1e-9:
        return np.ones(3)
    return np.maximum(light / peak, 1.0 - LAMP_TINT)


def _sky_in_view(renderer: Renderer, shape: tuple[int, ...]) -> bool:
    """Whether the photo shows sky: it pins the world's colour, so a lamp's tint has nowhere to go but the albedos."""
    return renderer.analysis(shape).world is not None


def _unclipped(goal: np.ndarray, images: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """Photo and renders in linear light, at the pixels none of them over-exposes; None when too few are left.

    Over-exposed pixels say nothing about energy.
    """
    usable = (goal.max(axis=2) < CLIPPED) & np.all([image.max(axis=2) < CLIPPED for image in images], axis=0)
    if usable.sum() < 50:
        return None
    return to_linear(goal)[usable], [to_linear(image)[usable] for image in images]


def _predicted_psnr(goal: np.ndarray, parts: list[np.ndarray], gains: np.ndarray) -> float:
    """PSNR of the picture the sources (linear renders, one per source) would make at these gains per source and channel."""
    mix = sum(part * gain for part, gain in zip(parts, gains))
    return psnr(goal, to_srgb(np.clip(mix, 0.0, 1.0)))


def _rescaled(light: Light, gains: np.ndarray) -> None:
    """Scale a light's energy per channel; strength takes the brightest channel, colour the rest."""
    rgb = np.array(light.color) * light.strength * gains
    peak = float(rgb.max())
    if peak <= 1e-9:
        return
    light.strength, light.color = peak, [float(c) for c in rgb / peak]


def balance_lights(scene: Scene, renderer: Renderer) -> Scene:
    """Solve key, fill and world energies per channel from one render per source; the renderer keeps the best."""
    sources = ["key", "world"] + (["fill"] if scene.fill is not None else [])
    if renderer.left < len(sources) + 1:
        return scene
    images = [renderer.image(_alone(scene, s), candidate=False) for s in sources]
    if any(image is None for image in images):
        return scene
    pixels = _unclipped(renderer.goal(images[0].shape), images)
    if pixels is None:
        return scene
    seen, parts = pixels
    lamps = None
    if _sky_in_view(renderer, images[0].shape):
        lamps = {k: (scene.light if source == "key" else scene.fill).color for k, source in enumerate(sources) if source != "world"}
    gains, _ = _solve(parts, seen, lamps)
    balanced = scene.copy()
    for source, gain in zip(sources, np.clip(gains, 0.05, 20.0)):
        if source == "key":
            _rescaled(balanced.light, gain)
        elif source == "fill":
            _rescaled(balanced.fill, gain)
            if balanced.fill.strength < NEGLIGIBLE * scene.fill.strength:
                balanced.fill = None
        else:
            balanced.world = [float(w * g) for w, g in zip(balanced.world, gain)]
    renderer.image(balanced)
    return best(renderer, balanced)


def fill_and_balance(scene: Scene, renderer: Renderer) -> Scene:
    """Add a fill lamp opposite the key (unless there is one) and solve all light energies; a useless fill is dropped."""
    return balance_lights(scene if scene.fill is not None else with_fill(scene, FILL_TURN), renderer)


def ring_lamp(scene: Scene, azimuth: float) -> Light:
    """A candidate lamp at ``azimuth``, high and far enough to light the whole floor, giving RING_SHARE of the key's light."""
    distance = max(2.0 * scene.camera.height, 5.0)
    lift = math.sin(math.radians(RING_ELEVATION))
    strength = RING_SHARE * direct_light(scene.light) * 4 * math.pi * distance**2 / lift
    return Light(kind="POINT", azimuth=azimuth % 360, elevation=RING_ELEVATION, distance=distance, strength=strength, size=0.5, color=list(scene.light.color))


def ring_sun(scene: Scene, azimuth: float) -> Light:
    """A candidate sun at ``azimuth``, giving the floor RING_SHARE of the key's light: parallel shadows and no falloff, where a lamp has both."""
    lift = math.sin(math.radians(RING_ELEVATION))
    return Light(kind="SUN", azimuth=azimuth % 360, elevation=RING_ELEVATION, strength=RING_SHARE * direct_light(scene.light) / lift, size=2.0, color=list(scene.light.color))


def softbox(light: Light) -> Light | None:
    """The lamp as a softbox at the same place, lighting the scene centre as much; None for a sun or a softbox already that size.

    A softbox's shadows are soft and it sends its light forward, so the floor
    beside and behind the objects gets less of it than from a bare lamp.
    """
    side = SOFTBOX * light.distance
    if light.kind == "SUN" or (light.kind == "AREA" and abs(light.size - side) < 0.2 * side):
        return None
    strength = light.strength / 4 if light.kind == "POINT" else light.strength  # on axis a square sends 1/pi of its power per steradian, a point 1/4pi
    return replace(light, kind="AREA", size=side, strength=strength)


def _softened(scene: Scene, roles: tuple[str, ...], renderer: Renderer) -> float | None:
    """Render ``scene`` with the lamps in ``roles`` ('light', 'fill') as their softbox twins, energies solved again; the solved render's PSNR."""
    trial = scene.copy()
    for role in roles:
        setattr(trial, role, softbox(getattr(scene, role)))
    part = renderer.part(renderer.left)
    balance_lights(trial, part)
    renderer.absorb(part)
    return part.best[0] if part.best is not None else None


def soften(scene: Scene, renderer: Renderer) -> Scene:
    """The key and the fill each tried as its softbox twin, and both when both win; the renderer keeps whichever renders closer.

    Each twin is judged against the scene as it is, not one after the other: a softbox
    fill in the photo also makes a softbox key look better than a bare one.
    """
    image = renderer.image(scene)  # the scene as it is is the bar (already rendered: no cost)
    if image is None:
        return scene
    bar = psnr(renderer.goal(image.shape), image)
    lamps = [role for role in ("light", "fill") if getattr(scene, role) is not None and softbox(getattr(scene, role)) is not None]
    won = tuple(role for role in lamps if (_softened(scene, (role,), renderer) or -np.inf) > bar)
    if len(won) == 2:
        _softened(scene, won, renderer)
    return best(renderer, scene)


def choose_lights(goal: np.ndarray, world: np.ndarray, images: list[np.ndarray], colours: list[list[float]] | None = None) -> tuple[tuple[int, ...], np.ndarray] | None:
    """The one or two lights (indices into ``images``, each a render lit by that light alone) and the gains (world first) that best make the photo.

    ``colours`` are the lights' colours in those renders, given to hold the lamps near
    white (``_solve``). Gains are least-squares solves; choices are compared by the PSNR
    of the picture they predict, since a second light always lowers the residual:
    fitting bright floor better in linear light, a spurious fill can wash out the
    dark shadows that sRGB weighs most.
    """
    pixels = _unclipped(goal, [world, *images])
    if pixels is None:
        return None
    seen, (world_part, *parts) = pixels
    linear = [to_linear(image) for image in (world, *images)]
    choices = [c for size in (1, 2) for c in itertools.combinations(range(len(images)), size)]
    solved = {
        choice: _solve([world_part] + [parts[k] for k in choice], seen, {1 + n: colours[k] for n, k in enumerate(choice)} if colours else None)[0]
        for choice in choices
    }
    choice = max(choices, key=lambda c: _predicted_psnr(goal, [linear[0]] + [linear[1 + k] for k in c], solved[c]))
    return choice, solved[choice]


def relight(scene: Scene, renderer: Renderer) -> Scene:
    """Keep the world and the one or two lights, among the key, the fill and a ring of lamps and of suns, that best explain the photo.

    Each source is rendered alone once; every choice is then a least-squares
    solve on those images, judged by the picture it predicts (``choose_lights``),
    so a pool of lamplight the key cannot make (a lamp behind the objects, a
    second light) is found without a render per guess, and so is a sun where
    the key is a lamp: once a lamp is the key, the pattern search cannot turn
    it into a sun, whose shadows fall parallel and whose light does not fade.
    """
    lights = [scene.light] + ([scene.fill] if scene.fill is not None else [])
    if renderer.image(scene) is None:  # the scene as it is is the bar (already rendered: no cost)
        return scene
    ring = min(RING, (renderer.left - len(lights) - 2) // 2)  # a lamp and a sun per turn; the world, the current lights, the chosen scene
    if ring < 1:
        return scene
    turns = [k * 360.0 / ring for k in range(ring)]
    lights += [ring_lamp(scene, turn) for turn in turns] + [ring_sun(scene, turn) for turn in turns]
    world = renderer.image(_alone(scene, "world"), candidate=False)
    images = [renderer.image(_lit_by(scene, light), candidate=False) for light in lights]
    if world is None or any(image is None for image in images):
        return best(renderer, scene)
    colours = [light.color for light in lights] if _sky_in_view(renderer, world.shape) else None
    chosen = choose_lights(renderer.goal(world.shape), world, images, colours)
    if chosen is None:
        return best(renderer, scene)
    choice, gains = chosen
    gains = np.clip(gains, 0.0, 20.0)
    relit = scene.copy()
    relit.world = [float(w * g) for w, g in zip(scene.world, np.maximum(gains[0], 0.05))]
    kept = []
    for k, gain in zip(choice, gains[1:]):
        if gain.max() > 1e-6:  # a source the solve switched off is dropped
            light = replace(lights[k])
            _rescaled(light, gain)
            kept.append(light)
    if not kept:
        return best(renderer, scene)
    kept.sort(key=direct_light, reverse=True)  # the brighter on the scene centre is the key
    relit.light, relit.fill = kept[0], (kept[1] if len(kept) > 1 else None)
    renderer.image(relit)
    return best(renderer, relit)
