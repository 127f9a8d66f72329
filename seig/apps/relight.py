"""Relighting: replace a scene's lights and world colour, keeping the result an editable program.

The new lighting is an appended, clearly marked block of ordinary bpy code
(remove every light, add a sun and area lights, set the world background), so
it passes the sandbox policy and the user can keep editing ``relit_<name>.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from seig.apps.run import AppError, Run, run_program
from seig.apps.values import format_value, hex_color, numbers
from seig.context import Context
from seig.tools.executor import RenderSpec


@dataclass(frozen=True)
class Sun:
    azimuth: float  # degrees counter-clockwise from +X, so -90 is behind a camera looking along +Y
    elevation: float  # degrees above the horizon
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    strength: float = 3.0
    angle: float = 1.0  # apparent size in degrees: larger means softer shadows


@dataclass(frozen=True)
class Area:
    location: tuple[float, float, float]
    power: float = 500.0
    size: float = 2.0
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Lighting:
    sun: Sun | None = None
    areas: tuple[Area, ...] = field(default_factory=tuple)
    world_color: tuple[float, float, float] = (0.05, 0.05, 0.05)
    world_strength: float = 1.0


PRESETS: dict[str, Lighting] = {
    "studio": Lighting(
        sun=Sun(-55, 55, strength=1.6, angle=3),
        areas=(Area((-4.0, -4.0, 4.0), power=150, size=3),),
        world_color=hex_color("#4d4d4d"),
    ),
    "sunset": Lighting(
        sun=Sun(160, 6, color=hex_color("#ff8c42"), strength=4.0, angle=2),
        world_color=hex_color("#4a3a66"),
        world_strength=0.6,
    ),
    "overcast": Lighting(
        sun=Sun(-90, 70, color=hex_color("#e4e9ef"), strength=0.6, angle=25),
        world_color=hex_color("#9aa3ad"),
        world_strength=1.0,
    ),
    "night": Lighting(
        sun=Sun(30, 35, color=hex_color("#9db4ff"), strength=0.25, angle=0.5),
        world_color=hex_color("#050814"),
        world_strength=0.5,
    ),
}


@dataclass
class RelightResult:
    name: str
    image: Path
    program: Path


def parse_area(text: str) -> Area:
    """'X,Y,Z,WATTS[,SIZE][,#HEX]': an area light at X,Y,Z aimed at the world origin."""
    parts = [p.strip() for p in text.split(",")]
    color = hex_color(parts.pop()) if parts and parts[-1].startswith("#") else (1.0, 1.0, 1.0)
    values = numbers(",".join(parts), (4, 5), "--area")
    if values[3] < 0 or (len(values) == 5 and values[4] <= 0):
        raise AppError(f"--area '{text}': power must be >= 0 and size > 0")
    return Area(tuple(values[:3]), power=values[3], size=values[4] if len(values) == 5 else 2.0, color=color)


def build_lighting(
    preset: str | None = None,
    *,
    sun_direction: str | None = None,
    sun_color: str | None = None,
    sun_strength: float | None = None,
    areas: list[str] | None = None,
    world_color: str | None = None,
) -> tuple[str, Lighting]:
    """A preset (or nothing) with explicit options on top; returns (name, lighting)."""
    explicit = any(v is not None for v in (sun_direction, sun_color, sun_strength, world_color)) or bool(areas)
    if preset is None and not explicit:
        raise AppError(f"choose --preset ({'|'.join(PRESETS)}) or give lighting options such as --sun-direction")
    if preset is not None and preset not in PRESETS:
        raise AppError(f"unknown preset '{preset}'; choose one of {', '.join(PRESETS)}")
    lighting = PRESETS[preset] if preset else Lighting()
    sun = lighting.sun
    if sun_direction is not None or sun_color is not None or sun_strength is not None:
        sun = sun or Sun(-60, 45)
        if sun_direction is not None:
            azimuth, elevation = numbers(sun_direction, (2,), "--sun-direction")
            if not -90 <= elevation <= 90:
                raise AppError(f"--sun-direction elevation {elevation:g} must be between -90 and 90 degrees")
            sun = replace(sun, azimuth=azimuth, elevation=elevation)
        if sun_color is not None:
            sun = replace(sun, color=hex_color(sun_color))
        if sun_strength is not None:
            if sun_strength < 0:
                raise AppError("--sun-strength must be >= 0")
            sun = replace(sun, strength=sun_strength)
    lighting = replace(lighting, sun=sun)
    if areas:
        lighting = replace(lighting, areas=tuple(parse_area(a) for a in areas))
    if world_color is not None:
        lighting = replace(lighting, world_color=hex_color(world_color))
    name = (preset or "custom") + ("_custom" if preset and explicit else "")
    return name, lighting


def lighting_block(name: str, lighting: Lighting) -> str:
    """Ordinary bpy code that replaces every light and the world colour."""
    lines = [
        f"# ---- seig relight: {name} ----",
        "import math",
        "",
        "from mathutils import Vector",
        "",
        "for seig_light in [o for o in bpy.data.objects if o.type == 'LIGHT']:",
        "    bpy.data.objects.remove(seig_light, do_unlink=True)",
        "seig_world = bpy.context.scene.world or bpy.data.worlds.new('World')",
        "bpy.context.scene.world = seig_world",
        "seig_background = next(n for n in seig_world.node_tree.nodes if n.type == 'BACKGROUND')",
        f"seig_background.inputs['Color'].default_value = {format_value((*lighting.world_color, 1.0))}",
        f"seig_background.inputs['Strength'].default_value = {format_value(float(lighting.world_strength))}",
    ]
    if lighting.sun is not None:
        sun = lighting.sun
        lines += [
            "",
            f"# sun from azimuth {sun.azimuth:g} deg, elevation {sun.elevation:g} deg",
            "seig_sun = bpy.data.objects.new('seig_sun', bpy.data.lights.new('seig_sun', 'SUN'))",
            "bpy.context.scene.collection.objects.link(seig_sun)",
            f"seig_sun.data.energy = {format_value(float(sun.strength))}",
            f"seig_sun.data.color = {format_value(sun.color)}",
            f"seig_sun.data.angle = math.radians({sun.angle:g})",
            f"seig_sun.rotation_euler = (math.radians(90 - {sun.elevation:g}), 0.0, math.radians({sun.azimuth:g} + 90))",
        ]
    for index, area in enumerate(lighting.areas):
        var = f"seig_area_{index}"
        lines += [
            "",
            f"{var} = bpy.data.objects.new('{var}', bpy.data.lights.new('{var}', 'AREA'))",
            f"bpy.context.scene.collection.objects.link({var})",
            f"{var}.data.energy = {format_value(float(area.power))}",
            f"{var}.data.size = {format_value(float(area.size))}",
            f"{var}.data.color = {format_value(area.color)}",
            f"{var}.location = {format_value(tuple(float(v) for v in area.location))}",
            f"{var}.rotation_euler = Vector({var}.location).to_track_quat('Z', 'Y').to_euler()  # faces the origin",
        ]
    return "\n".join(lines) + "\n"


def relight_program(program: str, name: str, lighting: Lighting) -> str:
    return program.rstrip() + "\n\n" + lighting_block(name, lighting)


def relight(
    run: Run,
    name: str,
    lighting: Lighting,
    *,
    out_dir: Path | None = None,
    long_side: int | None = None,
    samples: int | None = None,
    ctx: Context | None = None,
) -> RelightResult:
    """Render the run under new lighting; write relit_<name>.png and the editable relit_<name>.py."""
    out_dir = Path(out_dir or run.dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    program = relight_program(run.program, name, lighting)
    width, height = run.size(long_side) if long_side else (run.width, run.height)
    image = out_dir / f"relit_{name}.png"
    run_program(
        program,
        ctx,
        render=RenderSpec(width, height, samples or run.samples),
        render_out=image,
        what=f"relighting ({name})",
    )
    script = out_dir / f"relit_{name}.py"
    script.write_text(run.standalone(program), encoding="utf-8")
    return RelightResult(name=name, image=image, program=script)
