"""The classical backend's scene estimate: a few numbers a render-and-compare loop can tune.

Conventions (shared with ``camera.py`` and ``program.py``): the ground is the
plane z = 0, the camera stands at (0, CAMERA_Y, height) looking along +Y, tilted
down by ``pitch`` degrees, with no roll. Object colours are linear RGB, as
Blender stores them. Everything here is plain JSON so it can live in the
checkpointed ``backend_state``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CAMERA_Y = -8.0
SENSOR_MM = 36.0
SHAPES = ("cube", "sphere", "cylinder", "cone", "torus")


@dataclass
class Camera:
    height: float = 3.0
    pitch: float = 20.0  # degrees below the horizontal
    lens: float = 50.0  # mm on a 36 mm sensor fitted to the long side


@dataclass
class Light:
    azimuth: float = 210.0  # degrees, direction the light comes FROM, 0 = +X, counter-clockwise
    elevation: float = 50.0  # degrees above the ground
    strength: float = 3.0
    color: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    angle: float = 3.0  # sun disc angle in degrees: shadow softness


@dataclass
class SceneObject:
    name: str
    shape: str = "cube"
    x: float = 0.0
    y: float = 0.0
    size: float = 0.5  # radius / half-width on the ground
    height: float = 0.5  # half-height (sphere: ignored, equals size)
    rotation: float = 0.0  # degrees about Z
    color: list[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    roughness: float = 0.5
    metallic: float = 0.0

    @property
    def half_height(self) -> float:
        if self.shape == "sphere":
            return self.size
        if self.shape == "torus":
            return self.size * TORUS_MINOR
        return self.height


TORUS_MINOR = 0.3


@dataclass
class Scene:
    camera: Camera = field(default_factory=Camera)
    light: Light = field(default_factory=Light)
    world: list[float] = field(default_factory=lambda: [0.05, 0.05, 0.05])
    world_strength: float = 1.0
    ground: list[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    ground_roughness: float = 0.8
    objects: list[SceneObject] = field(default_factory=list)

    def to_dict(self) -> dict:
        return _rounded(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> "Scene":
        return cls(
            camera=Camera(**data.get("camera", {})),
            light=Light(**data.get("light", {})),
            world=list(data.get("world", [0.05, 0.05, 0.05])),
            world_strength=float(data.get("world_strength", 1.0)),
            ground=list(data.get("ground", [0.5, 0.5, 0.5])),
            ground_roughness=float(data.get("ground_roughness", 0.8)),
            objects=[SceneObject(**o) for o in data.get("objects", [])],
        )

    def copy(self) -> "Scene":
        return Scene.from_dict(self.to_dict())


def _rounded(value):
    """Round floats so backend_state stays small and diffs stay readable."""
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value
