"""Light strengths and colours solved, not searched: a render is linear in each light's energy.

Render the scene lit by each source alone (key, fill, world); in linear light
the photo should be a non-negative mix of those images, channel by channel.
Least squares gives every source's strength and colour at once, for the price
of one render per source, where a pattern search would spend one per step.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from seig.models.classical.analysis import CLIPPED
from seig.models.classical.refine import Renderer
from seig.models.classical.scene import Light, Scene
from seig.models.classical.search import best, with_fill
from seig.tools.images import to_linear

FILL_TURN = 180.0  # where a new fill lamp goes, in degrees round from the key: its shadow side
NEGLIGIBLE = 0.1  # a fill the solve turns down below this share of its first guess is dropped


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
    goal = renderer.goal(images[0].shape)
    usable = (goal.max(axis=2) < CLIPPED) & np.all([image.max(axis=2) < CLIPPED for image in images], axis=0)  # over-exposed pixels say nothing about energy
    if usable.sum() < 50:
        return scene
    seen = to_linear(goal)[usable]
    parts = [to_linear(image)[usable] for image in images]
    gains = np.ones((len(sources), 3))
    for channel in range(3):
        basis = np.stack([part[:, channel] for part in parts], axis=1)
        gains[:, channel], _ = nnls(basis, seen[:, channel])
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
