"""The classical backend's scene estimate: a few numbers a render-and-compare loop can tune.

Conventions (shared with ``camera.py`` and ``program.py``): the ground is a
square on the plane z = 0, the camera stands at (0, CAMERA_Y, height) looking
along +Y, tilted down by ``pitch`` degrees, with no roll. Object sizes are half
extents. Colours are linear RGB, as Blender stores them. Everything is plain
JSON so it can live in the checkpointed ``backend_state``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

CAMERA_Y = -8.0
SENSOR_MM = 36.0
SHAPES = ("cube", "sphere", "cylinder", "cone", "torus", "table", "snowman")
# Composites, as fractions of their size: a snowman's three balls, a table's top and legs.
SNOWMAN_BALLS = ((1.0, 1.0), (0.7, 2.56), (0.5, 3.52))  # (radius, centre height) in base radii
SNOWMAN_HAT = (0.35, 0.35, 3.97)  # a top hat sitting on the head: radius, height and centre height in base radii
HAT_START = [0.05, 0.05, 0.05]  # a hat's colour until the photo's is read: the usual black
TABLE_TOP = 0.12  # top thickness, fraction of the table's height
TABLE_LEG = 0.05  # leg radius, fraction of the table's height
TABLE_INSET = 0.12  # legs' inset from the top's corners, fraction of the top's half extents
LIGHT_TYPES = ("SUN", "POINT", "AREA")
# One photo fixes a scene only up to scale. The backend works with the camera
# 3 m up and writes programs at the scale where the median object measures
# this much: the square root of its height times its footprint's radius, in
# metres (furniture-sized things; 0.75 on the generator's tuning scenes, whose
# camera heights spread four times wider than that, around 4.5 m).
TYPICAL_OBJECT_SIZE = 0.75
SCALE_RANGE = (0.2, 5.0)  # at most this far from the working frame, whatever the fits say
ALBEDO_RANGE = (0.005, 0.95)  # what the colour corrections let an albedo be: never black, never a perfect white


def albedo_within(values) -> list[float]:
    """An albedo as plain floats, clipped to ALBEDO_RANGE: every correction that scales colours ends here."""
    return [float(c) for c in np.clip(values, *ALBEDO_RANGE)]


@dataclass
class Camera:
    height: float = 3.0
    pitch: float = 25.0  # degrees below the horizontal
    lens: float = 50.0  # mm on a 36 mm sensor fitted to the long side


@dataclass
class Ground:
    color: list[float] = field(default_factory=lambda: [0.3, 0.3, 0.3])
    roughness: float = 0.8
    half_size: float = 60.0
    x: float = 0.0
    y: float = 0.0
    rotation: float = 0.0  # degrees about Z


@dataclass
class Light:
    kind: str = "SUN"
    azimuth: float = 210.0  # degrees, direction the light comes FROM, 0 = +X, counter-clockwise
    elevation: float = 50.0  # degrees above the ground
    distance: float = 8.0  # from the scene centre; lamps only
    strength: float = 3.0  # W/m2 for a sun, W for lamps
    size: float = 0.5  # sun disc angle (degrees) or lamp radius/size (m): shadow softness
    color: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])


@dataclass
class SceneObject:
    name: str
    shape: str = "cube"
    x: float = 0.0
    y: float = 0.0
    sx: float = 0.5  # half extents; sphere/snowman: (base) radius; torus: outer radius (sx) and tube radius (sz)
    sy: float = 0.5
    sz: float = 0.5
    rotation: float = 0.0  # degrees about Z
    standing: bool = False  # a torus stood on its rim
    color: list[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    roughness: float = 0.5
    metallic: float = 0.0
    hat_color: list[float] | None = None  # a snowman's hat (linear RGB); None: bare-headed
    found_by_render: bool = False  # added where the render disagreed with the photo: no region of the photo outlines it
    region: int | None = None  # the photo analysis' region (fitting_analysis numbering) its silhouette is fitted to; None: no region outlines it

    @property
    def footprint(self) -> float:
        """Radius of the circle around the object's footprint on the floor."""
        return math.hypot(self.sx, self.sy) if self.shape in ("cube", "table") else self.sx

    @property
    def top(self) -> float:
        """Height of the object's highest point above the floor."""
        if self.shape == "snowman" and self.hat_color is not None:
            _, height, centre = SNOWMAN_HAT
            return (centre + height / 2) * self.sx
        if self.shape == "snowman":
            radius, centre = SNOWMAN_BALLS[-1]
            return (radius + centre) * self.sx
        if self.shape == "table":
            return 2 * self.sz
        return 2 * self.lift

    @property
    def lift(self) -> float:
        """Height of the object's centre above the ground it rests on."""
        if self.shape in ("sphere", "snowman"):
            return self.sx
        if self.shape == "torus":
            return self.sx if self.standing else self.sz
        if self.shape == "table":
            return 0.0  # a table's origin is on the floor between its legs
        return self.sz


@dataclass
class Scene:
    camera: Camera = field(default_factory=Camera)
    ground: Ground = field(default_factory=Ground)
    light: Light = field(default_factory=Light)
    fill: Light | None = None  # a second, weaker lamp lifting the key light's shadow side
    world: list[float] = field(default_factory=lambda: [0.05, 0.05, 0.05])
    objects: list[SceneObject] = field(default_factory=list)
    # Where the lamps are placed from. Pinned once the objects are placed: if it
    # followed their mean, moving or adding one object would move every lamp.
    anchor: list[float] | None = None

    def to_dict(self) -> dict:
        return _rounded(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> "Scene":
        return cls(
            camera=Camera(**data.get("camera", {})),
            ground=Ground(**data.get("ground", {})),
            light=Light(**data.get("light", {})),
            fill=Light(**data["fill"]) if data.get("fill") else None,
            world=list(data.get("world", [0.05, 0.05, 0.05])),
            objects=[SceneObject(**{"region": None if o.get("found_by_render") else k, **o}) for k, o in enumerate(data.get("objects", []))],
            anchor=data.get("anchor"),
        )

    def copy(self) -> "Scene":
        return Scene.from_dict(self.to_dict())

    def centre(self) -> tuple[float, float]:
        """The lamps' anchor: the pinned point, else the objects' mean."""
        if self.anchor is not None:
            return self.anchor[0], self.anchor[1]
        return self._objects_mean()

    def pin_centre(self) -> None:
        """Pin the lamps' anchor at the objects' mean as they stand now."""
        self.anchor = list(self._objects_mean())

    def in_metres(self) -> "Scene":
        """This scene scaled about the camera's foot so that its objects have everyday sizes.

        The picture stays the same: lamps move out with the scene and their
        power grows with the square of the scale, so each surface gets the same
        light; suns, the world and colours do not change.
        """
        sizes = [math.sqrt(max(o.top, 0.0) * max(o.footprint, 0.0)) for o in self.objects]
        median = float(np.median(sizes)) if sizes else 0.0
        if median <= 0.0:
            return self.copy()
        return self.scaled(float(np.clip(TYPICAL_OBJECT_SIZE / median, *SCALE_RANGE)))

    def scaled(self, factor: float) -> "Scene":
        """Every length times ``factor``, about the point under the camera."""
        scene = self.copy()

        def move(x: float, y: float) -> tuple[float, float]:
            return x * factor, CAMERA_Y + (y - CAMERA_Y) * factor

        scene.camera.height *= factor
        ground = scene.ground
        ground.x, ground.y = move(ground.x, ground.y)
        ground.half_size *= factor
        for obj in scene.objects:
            obj.x, obj.y = move(obj.x, obj.y)
            obj.sx, obj.sy, obj.sz = obj.sx * factor, obj.sy * factor, obj.sz * factor
        for light in (scene.light, scene.fill):
            if light is not None and light.kind != "SUN":
                light.distance *= factor
                light.size *= factor
                light.strength *= factor**2
        if scene.anchor is not None:
            scene.anchor = list(move(*scene.anchor))
        return scene

    def _objects_mean(self) -> tuple[float, float]:
        if not self.objects:
            return 0.0, 0.0
        return (
            sum(o.x for o in self.objects) / len(self.objects),
            sum(o.y for o in self.objects) / len(self.objects),
        )


def _rounded(value):
    """Plain floats, rounded, so backend_state stays small, readable and serialisable by the checkpointer.

    NumPy scalars pass ``isinstance(value, float)`` but survive ``round`` as NumPy
    scalars, which the checkpointer cannot store: the run would stop.
    """
    if isinstance(value, (float, np.floating)):
        return round(float(value), 5)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value
