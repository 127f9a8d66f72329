"""The optimisers each stage uses: analytic camera search, colour correction, pattern searches.

Every function takes a scene and a ``Renderer`` (which enforces the round's
render budget and remembers the best render) and returns an improved scene.
With no renderer (unit tests, dry runs) the render-based ones return the scene
unchanged.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from seig.models.classical.analysis import Analysis
from seig.models.classical.estimate import direct_light, read_hat
from seig.models.classical.camera import View
from seig.models.classical.fit import SHAPE_PRIOR, RegionTarget, fit_ground, fit_shapes, initial_object, outlined, posed_starts, refine_object
from seig.models.classical.refine import Renderer, inner_errors, local_errors
from seig.models.classical.scene import Camera, Light, Scene, SceneObject, albedo_within
from seig.models.classical.shadows import fit_sun_direction
from seig.tools.metrics import psnr

LENSES = (28.0, 38.0, 50.0, 70.0)
PITCH_RIVALS = (-12.0, -6.0, 6.0, 12.0)  # degrees from the guessed pitch, when no floor edge is in view


def _pitch_for_lens(camera: Camera, lens: float, analysis: Analysis) -> float:
    """The pitch that keeps the floor's far edge where it was under a new lens (the same pitch if no edge shows)."""
    if analysis.horizon_v is None:
        return camera.pitch
    view = View(camera, analysis.width, analysis.height)
    offset = (analysis.height / 2 - view.horizon_v()) / view.focal_px * camera.lens / lens
    return math.degrees(math.atan(offset))


def _camera_at(camera: Camera, lens: float, pitch: float) -> Camera:
    """The camera with this lens and pitch, the pitch kept between nearly level and nearly straight down."""
    return replace(camera, lens=lens, pitch=float(np.clip(pitch, 2.0, 85.0)))


def refit_objects(analysis: Analysis, scene: Scene, camera: Camera, evaluations: int = 80) -> tuple[Scene, float]:
    """Keep each object's shape class, refit it under another camera; returns the scene and its total error."""
    view = View(camera, analysis.width, analysis.height)
    refitted, total = replace(scene.copy(), camera=camera), 0.0  # objects no region outlines stay as they are
    for k, obj in outlined(scene, analysis):
        target = RegionTarget.build(analysis, obj.region)
        start = initial_object(view, analysis.regions[obj.region], obj.name, obj.shape)
        start = replace(start, rotation=obj.rotation, standing=obj.standing, color=obj.color, roughness=obj.roughness, metallic=obj.metallic, region=obj.region)
        if obj.shape == "torus":
            start.sz = start.sx * obj.sz / max(obj.sx, 1e-3)
        # from the region's guess and from the last fit, both refined: a table's footprint guess floats its top, and a
        # half-hidden object refined only from the start that looked closer can stall, its error alone then choosing the camera
        fitted, loss = min((refine_object(view, target, first, evaluations) for first in (start, obj)), key=lambda fit: fit[1])
        if fitted.shape == "snowman":  # under another camera the hat may sit elsewhere: look again, keeping a colour already matched
            hat = read_hat(analysis, view, replace(fitted, hat_color=obj.hat_color or start.hat_color), obj.region)
            fitted = replace(fitted, hat_color=None if hat is None else obj.hat_color or hat)
        refitted.objects[k] = fitted
        total += loss * target.area
    refitted.pin_centre()  # the objects moved with the camera: the lamps go with them
    refitted.ground, ground_loss = fit_ground(view, analysis, refitted)
    return refitted, total + ground_loss * max(analysis.edge_columns.size, 1)


def camera_search(analysis: Analysis, scene: Scene) -> Scene:
    """Try lenses (and nearby pitches): the one whose refitted shapes match the photo best wins."""
    if not scene.objects:
        return scene
    best_scene, best_loss = refit_objects(analysis, scene, scene.camera)
    for lens in LENSES:
        pitch = _pitch_for_lens(scene.camera, lens, analysis)
        for dp in (-3.0, 0.0, 3.0):
            trial, loss = refit_objects(analysis, scene, _camera_at(scene.camera, lens, pitch + dp), evaluations=60)
            if loss < best_loss * 0.995:
                best_scene, best_loss = trial, loss
    for dp in (-1.5, 1.5):
        camera = replace(best_scene.camera, pitch=best_scene.camera.pitch + dp)
        trial, loss = refit_objects(analysis, best_scene, camera)
        if loss < best_loss:
            best_scene, best_loss = trial, loss
    return best_scene


def renders_choose_pitch(analysis: Analysis) -> bool:
    """Whether pitch rivals are rendered: only with no floor edge in view, which would pin the pitch better (measured)."""
    return analysis.horizon_v is None


def pitch_rivals(analysis: Analysis, scene: Scene) -> list[Scene]:
    """With no floor edge in view, the scene refitted under steeper and shallower cameras, each with the lens its silhouettes like best.

    Silhouettes barely pin the pitch (objects refit to match under most cameras), so renders
    must decide between these. Where the floor's far edge shows, it pins the pitch better
    than a render of the rivals did (measured: they lost more than they won), so there are none.
    Every lens gets a full fit: quick ones (20 evaluations) ranked the best lens first for only
    24 of 56 rivals on the standard suite, and not even second for 14.
    """
    if not renders_choose_pitch(analysis):
        return []
    rivals = []
    for dp in PITCH_RIVALS:
        fits = [refit_objects(analysis, scene, _camera_at(scene.camera, lens, scene.camera.pitch + dp), evaluations=120) for lens in LENSES]
        rivals.append(min(fits, key=lambda fit: fit[1])[0])
    return rivals


def choose_pitch(analysis: Analysis, scene: Scene, renderer: Renderer) -> Scene:
    """With pitch rivals, the best render of the round so far (a rival, the scene, or the round's incoming scene)."""
    rivals = pitch_rivals(analysis, scene)
    if not rivals:
        return scene
    for candidate in [scene, *rivals]:
        renderer.image(candidate)
    return best(renderer, scene)


def polish_geometry(analysis: Analysis, scene: Scene, evaluations: int) -> Scene:
    """More Nelder-Mead on every silhouette, from the current fit and from a quarter turn (boxes, rings)."""
    scene = scene.copy()
    view = View(scene.camera, analysis.width, analysis.height)
    for k, obj in outlined(scene, analysis):
        target = RegionTarget.build(analysis, obj.region)
        best_obj, best_loss = obj, target.loss(view, obj)
        starts = [obj] + ([replace(obj, rotation=(obj.rotation + 45.0) % 180)] if obj.shape in ("cube", "torus") else [])
        for start in starts:
            fitted, loss = refine_object(view, target, start, evaluations)
            if loss < best_loss:
                best_obj, best_loss = fitted, loss
        scene.objects[k] = best_obj
    return scene


SWAP_MARGIN = 0.12  # a shape class is a rival when its silhouette loss is within this of the best


def rival_shapes(analysis: Analysis, view: View, obj: SceneObject, evaluations: int = 30) -> list[SceneObject]:
    """``obj`` as every other shape class whose outline fits about as well as its own (within SWAP_MARGIN), closest first.

    Silhouettes alone cannot tell a squat cylinder from a box or a ring whose hole is
    hidden from a disc; shading can, so the rivals are for a render to judge.
    """
    target = RegionTarget.build(analysis, obj.region)
    # the other classes also start from the object as it stands
    fits = fit_shapes(view, target, analysis.regions[obj.region], obj.name, evaluations, more=posed_starts(view, obj))
    own = target.loss(view, obj) + SHAPE_PRIOR.get(obj.shape, 0.0)
    rivals = []
    for _, shape in sorted((loss, shape) for shape, (_, loss) in fits.items() if shape != obj.shape and loss < own + SWAP_MARGIN):
        rival = replace(fits[shape][0], name=obj.name, color=obj.color, roughness=obj.roughness, metallic=obj.metallic, region=obj.region)
        if rival.shape == "snowman":
            rival.hat_color = read_hat(analysis, view, rival, obj.region)
        rivals.append(rival)
    return rivals


def shape_rivals(analysis: Analysis, scene: Scene) -> Scene:
    """Every object as its best other shape class (itself when no class fits about as well)."""
    scene = scene.copy()
    view = View(scene.camera, analysis.width, analysis.height)
    for k, obj in outlined(scene, analysis):
        rivals = rival_shapes(analysis, view, obj)
        if rivals:
            scene.objects[k] = rivals[0]
    return scene


CLEAR_FALL = 0.97  # what the error around an object (local_errors) must fall to, as a share, for it to take a rival shape or another finish


def shape_search(analysis: Analysis, scene: Scene, renderer: Renderer) -> Scene:
    """One render shows every object as a rival shape; each object keeps the rival if the error around it fell."""
    image = renderer.image(scene)
    trial = shape_rivals(analysis, scene)
    if image is None or trial.objects == scene.objects:
        return scene
    trial_image = renderer.image(trial, candidate=False)
    if trial_image is None:
        return scene
    goal = renderer.goal(image.shape)
    errors, trial_errors = local_errors(scene, image, goal), local_errors(trial, trial_image, goal)
    scene = scene.copy()
    for k in range(len(scene.objects)):
        if trial_errors[k] < errors[k] * CLEAR_FALL:
            scene.objects[k] = trial.objects[k]
    if renderer.left > 0:
        renderer.image(scene)
    return best(renderer, scene)


def colour_loop(scene: Scene, renderer: Renderer, steps: int, objects: bool = True) -> Scene:
    """Analytic colour corrections, each checked by a render; the renderer keeps the best."""
    image = renderer.image(scene)
    for _ in range(steps):
        if image is None:
            break
        scene = renderer.match_colours(scene, image, objects)
        image = renderer.image(scene)
    return best(renderer, scene)


EXPOSURE_STEP = 1.4  # direct light up or down by this, albedos the other way
EXPOSURE_RENDERS = 3  # a trial: its first render, then two colour corrections


def exposed(scene: Scene, factor: float) -> Scene:
    """Key and fill stronger by ``factor`` and every albedo (hats too) weaker by as much.

    Lit sides keep their shading; what moves is the share of the world's light
    (shadows darken as the factor grows) and every albedo that had hit the ceiling.
    """
    scene = scene.copy()
    scene.light.strength *= factor
    if scene.fill is not None:
        scene.fill.strength *= factor
    for surface in [scene.ground, *scene.objects]:
        surface.color = albedo_within(np.asarray(surface.color) / factor)
    for obj in scene.objects:
        if obj.hat_color is not None:
            obj.hat_color = albedo_within(np.asarray(obj.hat_color) / factor)
    return scene


def exposure_search(scene: Scene, renderer: Renderer) -> Scene:
    """More direct light, then (if that lost) less, each trial with its colours re-matched by renders.

    Light and albedo trade off, and the colour corrections cannot move that trade
    when a visible sky pins the world's light: albedos stuck at the ceiling then
    leave white things grey. A step that wins is taken again while renders last.
    """
    if renderer.image(scene) is None or renderer.best is None:
        return scene
    for factor in (EXPOSURE_STEP, 1 / EXPOSURE_STEP):
        moved = False
        while renderer.left >= EXPOSURE_RENDERS:
            score = renderer.best[0]
            colour_loop(exposed(best(renderer, scene), factor), renderer, EXPOSURE_RENDERS - 1)
            if renderer.best[0] <= score:
                break
            moved = True
        if moved:
            break
    return best(renderer, scene)


def best(renderer: Renderer, fallback: Scene) -> Scene:
    return renderer.best[1].copy() if renderer.best is not None else fallback


def pattern_search(scene: Scene, renderer: Renderer, moves: list[tuple[str, float]], apply, reserve: int = 0) -> Scene:
    """Global coordinate search: try each move, keep it if the whole picture got closer, and repeat a kept move while it pays.

    Repeating walks a light as far as it should go in one round; a single step left the
    next round, which starts at other moves, to find that direction again.
    ``reserve`` renders are left unspent for whatever the caller does next.
    """
    image = renderer.image(scene)
    if image is None:
        return scene
    goal = renderer.goal(image.shape)
    score = psnr(goal, image)
    for name, step in moves:
        while renderer.left > reserve:
            trial = apply(scene.copy(), name, step)
            trial_image = renderer.image(trial)
            if trial_image is None:
                break
            trial_score = psnr(goal, trial_image)
            if trial_score <= score:
                break
            scene, score = trial, trial_score
    return best(renderer, scene)


def light_move(scene: Scene, name: str, step: float) -> Scene:
    light = scene.light
    if name == "azimuth":
        light.azimuth = (light.azimuth + step) % 360
    elif name == "elevation":
        light.elevation = float(np.clip(light.elevation + step, 5.0, 89.0))
    elif name == "strength":
        light.strength *= step
    elif name == "softness":
        light.size = float(np.clip(light.size * step, 0.05, 30.0 if light.kind == "SUN" else 5.0))
    elif name == "distance" and light.kind != "SUN":
        light.distance *= step
        light.strength *= step * step  # keep the light reaching the scene about the same
    elif name == "world":
        scene.world = [float(c * step) for c in scene.world]
    elif name == "fill_strength" and scene.fill is not None:
        scene.fill.strength *= step
    elif name == "fill_azimuth" and scene.fill is not None:
        scene.fill.azimuth = (scene.fill.azimuth + step) % 360
    return scene


LIGHT_MOVES = [
    ("azimuth", 25.0), ("azimuth", -25.0), ("elevation", 10.0), ("elevation", -10.0),
    ("distance", 1.4), ("distance", 1 / 1.4), ("strength", 1.3), ("strength", 1 / 1.3),
    ("softness", 3.0), ("world", 1.25), ("world", 0.8), ("azimuth", 10.0), ("azimuth", -10.0),
    ("elevation", 4.0), ("elevation", -4.0), ("softness", 1 / 3.0),
    ("fill_strength", 1.6), ("fill_strength", 1 / 1.6), ("fill_azimuth", 35.0), ("fill_azimuth", -35.0),
]
FILL_SHARE = 0.3  # a fill's irradiance at the scene centre, as a share of the key's


def light_moves(scene: Scene, round_: int) -> list[tuple[str, float]]:
    """The light's moves for this round (suns have no distance), later rounds starting further down the list."""
    moves = [
        m for m in LIGHT_MOVES
        if (scene.light.kind != "SUN" or m[0] != "distance") and (scene.fill is not None or not m[0].startswith("fill"))
    ]
    start = (round_ * 7) % len(moves)
    return moves[start:] + moves[:start]


def as_kind(scene: Scene, kind: str) -> Scene:
    """The same light as another kind, with a strength that lights the scene centre about as much."""
    scene = scene.copy()
    light = scene.light
    if light.kind == kind:
        return scene
    sun = light.strength if light.kind == "SUN" else light.strength / (4 * math.pi * light.distance**2)
    light.kind = kind
    light.distance = 2.0 * scene.camera.height
    if kind == "SUN":
        light.strength, light.size = sun, 2.0
    elif kind == "POINT":
        light.strength, light.size = sun * 4 * math.pi * light.distance**2, 0.3
    else:
        light.strength, light.size = sun * math.pi * light.distance**2, 2.0
    return scene


def aim_light(analysis: Analysis, scene: Scene) -> Scene:
    """The light turned to where the current shapes' shadows best match the photo's (same energy on the floor)."""
    fitted = fit_sun_direction(analysis, scene)
    if fitted is None:
        return scene
    scene = scene.copy()
    light = scene.light
    before = math.sin(math.radians(light.elevation))
    light.azimuth, light.elevation = fitted[0], float(np.clip(fitted[1], 10.0, 85.0))
    light.strength *= before / max(math.sin(math.radians(light.elevation)), 0.1)
    return scene


def turn_light(scene: Scene, renderer: Renderer) -> Scene:
    """The key light from the other three quarters, each judged by a render.

    Shadows read from a wrong fit point the opposite way; small steps do not
    undo that, and shadows on the wrong side cost much of the picture.
    """
    for turn in (180.0, 90.0, -90.0):
        if renderer.left < 2:
            break
        trial = scene.copy()
        trial.light.azimuth = (trial.light.azimuth + turn) % 360
        renderer.image(trial)
    return best(renderer, scene)


def with_fill(scene: Scene, turn: float) -> Scene:
    """The scene with a soft fill lamp ``turn`` degrees round from the key, taking FILL_SHARE of its light."""
    scene = scene.copy()
    key = scene.light
    elevation, distance = 40.0, max(2.0 * scene.camera.height, 4.0)
    irradiance = FILL_SHARE * direct_light(key)
    key.strength *= 1 - FILL_SHARE / 2
    scene.fill = Light(
        kind="POINT",
        azimuth=(key.azimuth + turn) % 360,
        elevation=elevation,
        distance=distance,
        strength=irradiance * 4 * math.pi * distance**2 / math.sin(math.radians(elevation)),
        size=1.0,
        color=list(key.color),
    )
    return scene


def choose_light_kind(scene: Scene, renderer: Renderer, lamp: Light | None) -> Scene:
    """Render the light as a sun, a lamp and a softbox, colour-correct each once, keep the closest.

    Lamps are placed where the floor's brightness falloff puts them when that was measurable.
    """
    for kind in ("SUN", "POINT", "AREA"):
        if renderer.left < 2:
            break
        trial = as_kind(scene, kind)
        if lamp is not None and kind != "SUN":
            trial.light = replace(lamp, color=list(scene.light.color))
            if kind == "AREA":
                trial.light = replace(trial.light, kind="AREA", strength=lamp.strength / 4, size=1.5)
        image = renderer.image(trial)
        if image is not None:
            renderer.image(renderer.match_colours(trial, image))
    return best(renderer, scene)


def object_move(scene: Scene, k: int, name: str, step: float) -> None:
    obj = scene.objects[k]
    if name in ("x", "y"):
        setattr(obj, name, getattr(obj, name) + step * max(obj.sx, 0.05))
    elif name == "scale":
        obj.sx, obj.sy, obj.sz = obj.sx * step, obj.sy * step, obj.sz * step
    elif name == "height" and obj.shape in ("cube", "cylinder", "cone"):
        obj.sz *= step
    elif name == "rotation" and obj.shape in ("cube", "torus"):
        obj.rotation = (obj.rotation + step) % 180


PLACEMENT_MOVES = [
    ("x", 0.12), ("x", -0.12), ("y", 0.15), ("y", -0.15), ("scale", 1.06), ("scale", 1 / 1.06),
    ("height", 1.08), ("height", 1 / 1.08), ("rotation", 8.0), ("rotation", -8.0),
]
FINE_PLACEMENT_MOVES = [(name, step / 2 if name in ("x", "y", "rotation") else step**0.5) for name, step in PLACEMENT_MOVES]  # half the shifts and turns, half the ratio (in log)
OUTLINE_SLACK = 0.03  # how much a placement move may worsen an object's silhouette loss


def silhouette_losses(analysis: Analysis, scene: Scene) -> list[float]:
    view = View(scene.camera, analysis.width, analysis.height)
    losses = [0.0] * len(scene.objects)  # an object no region outlines has no silhouette to keep
    for k, obj in outlined(scene, analysis):
        losses[k] = RegionTarget.build(analysis, obj.region).loss(view, obj)
    return losses


def placement_search(scene: Scene, renderer: Renderer, analysis: Analysis, moves=PLACEMENT_MOVES, anchor=None) -> Scene:
    """One render tries a move on every object; each object keeps it if the error around it fell.

    A move must also keep the object's silhouette close to the photo's, so that a
    shading error (say, a wrong light) cannot be "fixed" by shrinking an object.
    The slack is counted from the last accepted move, or from `anchor` (outlines from
    silhouette_losses) when searches run one after another and must not drift step by step.
    """
    image = renderer.image(scene)
    if image is None or not scene.objects:
        return scene
    goal = renderer.goal(image.shape)
    errors = local_errors(scene, image, goal)
    outlines = silhouette_losses(analysis, scene)
    ceilings = None if anchor is None else [outline + OUTLINE_SLACK for outline in anchor]
    for name, step in moves:
        if renderer.left <= 1:  # keep one render to check the merged result
            break
        trial = scene.copy()
        for k in range(len(scene.objects)):
            object_move(trial, k, name, step)
        trial_image = renderer.image(trial, candidate=False)
        if trial_image is None:
            continue
        trial_errors = local_errors(scene, trial_image, goal)
        trial_outlines = silhouette_losses(analysis, trial)
        better = [
            k for k in range(len(scene.objects))
            if trial_errors[k] < errors[k] * 0.995 and trial_outlines[k] <= (outlines[k] + OUTLINE_SLACK if ceilings is None else ceilings[k])
        ]
        for k in better:
            scene.objects[k] = trial.objects[k]
            errors[k], outlines[k] = trial_errors[k], trial_outlines[k]
    if renderer.left > 0:
        renderer.image(scene)
    return best(renderer, scene)


METAL = (0.3, 1.0)  # roughness and metallic of the metal finish: discovery tries it on found objects too
FINISHES = ((0.15, 0.0), (0.85, 0.0), METAL)  # (roughness, metallic): glossy, matte, metal
FINISH_RENDERS = 2 + 2 * len(FINISHES)  # the search's renders: the scene, each finish and its colour match, the choice


def finish_search(scene: Scene, renderer: Renderer, inside: bool = False) -> Scene:
    """Glossy, matte or metal: each finish tried on all objects at once (a render, then one colour-matched), each object keeps what suits it.

    By default an object takes a finish where the error around it falls by 3 %, and a finish tried
    on every object at once may win the round whole: under a light still to be settled, where a
    highlight falls says little, so only a clear change counts. ``inside`` is for the final light:
    each object keeps the finish whose render matches its own pixels best (``inner_errors``), which
    the floor, the shadow and the outline's misfit around it would drown, and the finishes tried on
    every object are probes, kept object by object only.
    """
    errors_of, margin = (inner_errors, 1.0) if inside else (local_errors, CLEAR_FALL)
    image = renderer.image(scene)
    if image is None or not scene.objects:
        return scene
    goal = renderer.goal(image.shape)
    errors = errors_of(scene, image, goal)
    chosen = scene.copy()
    for roughness, metallic in FINISHES:
        if renderer.left < 2:
            break
        trial = scene.copy()
        for obj in trial.objects:
            obj.roughness, obj.metallic = roughness, metallic
        trial_image = renderer.image(trial, candidate=not inside)
        if trial_image is None:
            continue
        trial = renderer.match_colours(trial, trial_image)
        trial_image = renderer.image(trial, candidate=not inside)
        if trial_image is None:
            continue
        trial_errors = errors_of(scene, trial_image, goal)
        for k in range(len(scene.objects)):
            if trial_errors[k] < errors[k] * margin:
                chosen.objects[k] = trial.objects[k]
                errors[k] = trial_errors[k]
    if renderer.left > 0:
        renderer.image(chosen)
    return best(renderer, chosen)
