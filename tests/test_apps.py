"""The apps on real scenes: relight, edit, simulate, orbit and export through real bpy.

Scenes are small hand-written programs wrapped with `standalone`; renders are
tiny (32-64 px, few samples) so the whole file stays quick on two cores.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import trimesh
from PIL import Image
from typer.testing import CliRunner

from seig.apps.edit import edit_run, edit_with_instruction
from seig.apps.export import export
from seig.apps.inspect import inspect_blend
from seig.apps.literal_edit import edit_literal
from seig.apps.orbit import orbit
from seig.apps.relight import build_lighting, relight
from seig.apps.run import AppError, load_run
from seig.apps.simulate import simulate
from seig.cli import app
from seig.tools.executor import RenderSpec, close_shared_executors, shared_executor
from seig.tools.program import extract_program, standalone

SCENE = '''import bpy

scene = bpy.context.scene
bpy.ops.mesh.primitive_plane_add(size=12, location=(0, 0, 0))
ground = bpy.context.active_object
ground.name = "Ground"
bpy.ops.mesh.primitive_cube_add(size=1, location=(0.9, 0.3, 0.5))
cube = bpy.context.active_object
cube.name = "Cube"
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.5, location=(-0.9, 0.0, 1.6))
sphere = bpy.context.active_object
sphere.name = "Sphere"
red = bpy.data.materials.new("Red")
bsdf = red.node_tree.nodes["Principled BSDF"]
bsdf.inputs["Base Color"].default_value = (0.8, 0.1, 0.1, 1.0)
bsdf.inputs["Metallic"].default_value = 0.0
sphere.data.materials.append(red)
sun_data = bpy.data.lights.new("Sun", "SUN")
sun_data.energy = 3.0
sun = bpy.data.objects.new("Sun", sun_data)
scene.collection.objects.link(sun)
sun.rotation_euler = (0.6, 0.2, 0.5)
cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
scene.collection.objects.link(cam)
cam.location = (0.0, -8.0, 3.5)
cam.rotation_euler = (1.2, 0.0, 0.0)
scene.camera = cam
scene.world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.2, 0.2, 0.22, 1.0)
'''

# One cube in the middle of a ground seen from above and in front: shadows fall clearly left or right.
SHADOW_SCENE = '''import bpy

scene = bpy.context.scene
bpy.ops.mesh.primitive_plane_add(size=20, location=(0, 0, 0))
bpy.context.active_object.name = "Ground"
bpy.ops.mesh.primitive_cube_add(size=1, location=(0, 0, 0.5))
bpy.context.active_object.name = "Block"
cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
scene.collection.objects.link(cam)
cam.location = (0.0, -6.0, 6.0)
cam.rotation_euler = (0.785, 0.0, 0.0)
scene.camera = cam
'''


@pytest.fixture(scope="module", autouse=True)
def _close_workers():
    yield
    close_shared_executors()


def make_run(directory: Path, program: str = SCENE, width: int = 48, height: int = 36) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "scene.py").write_text(standalone(program, width=width, height=height, samples=4))
    return directory


def luminance(path: Path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
    return rgb @ np.array([0.2126, 0.7152, 0.0722])


def summary(program: str) -> dict:
    result = shared_executor().run(program)
    assert result.ok, result.error
    return {o["name"]: o for o in result.scene["objects"]} | {"_materials": result.scene["materials"]}


def scene_objects(program: str, blend: Path) -> dict:
    """Every object's transforms, material inputs and light/camera data, read back from the saved scene."""
    result = shared_executor().run(program, blend_out=blend)
    assert result.ok, result.error
    return inspect_blend(blend)


# ---- relight -------------------------------------------------------------------------------


def test_relight_night_is_darker_and_keeps_an_editable_program(tmp_path):
    run = load_run(make_run(tmp_path / "run"))
    studio = relight(run, *build_lighting("studio"), samples=8)
    night = relight(run, *build_lighting("night"), samples=8)
    assert luminance(night.image).mean() < 0.5 * luminance(studio.image).mean()
    program = extract_program(night.program.read_text())
    assert "# ---- seig relight: night ----" in program
    scene = summary(program)
    lights = [o for o in scene.values() if o.get("type") == "LIGHT"]
    assert [o["name"] for o in lights] == ["seig_sun"]  # the original sun is gone
    assert run.program.strip() in program  # the scene itself is untouched


def dark_centroid_x(image: Path) -> float:
    """Horizontal centre of the shadow: ground pixels much darker than the lit ground."""
    lum = luminance(image)
    lit = np.median(lum)
    ys, xs = np.nonzero(lum < 0.5 * lit)
    assert len(xs) > 10, "no shadow found"
    return xs.mean() / lum.shape[1]


def test_moving_the_sun_moves_the_shadow(tmp_path):
    run = load_run(make_run(tmp_path / "run", SHADOW_SCENE, 64, 64))
    from_right = relight(run, *build_lighting(sun_direction="0,30", world_color="#101010"), samples=8)
    shutil.move(from_right.image, tmp_path / "right.png")
    from_left = relight(run, *build_lighting(sun_direction="180,30", world_color="#101010"), samples=8)
    # Sun from +X (right of the camera) throws the shadow left, and the other way round.
    assert dark_centroid_x(tmp_path / "right.png") < 0.45
    assert dark_centroid_x(from_left.image) > 0.55


# ---- edit ----------------------------------------------------------------------------------


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_edit_rewrites_exactly_the_named_literals(tmp_path):
    run_dir = make_run(tmp_path / "run")
    original_script = (run_dir / "scene.py").read_text()
    run = load_run(run_dir)
    before = run.program
    result = edit_run(run, ["Sphere.location.x=-1.2", "Sphere.material.metallic=1"], samples=4)
    after = extract_program(result.program.read_text())
    assert [m for _, m in result.methods] == ["literal", "literal"]
    assert sorted(changed_lines(before, after)) == [
        "+bpy.ops.mesh.primitive_uv_sphere_add(radius=0.5, location=(-1.2, 0.0, 1.6))",
        '+bsdf.inputs["Metallic"].default_value = 1.0',
        "-bpy.ops.mesh.primitive_uv_sphere_add(radius=0.5, location=(-0.9, 0.0, 1.6))",
        '-bsdf.inputs["Metallic"].default_value = 0.0',
    ]
    old, new = summary(before), summary(after)
    assert new["Sphere"]["location"] == [-1.2, 0.0, 1.6]
    assert new["_materials"]["Red"]["metallic"] == 1.0
    for name in ("Ground", "Cube", "Sun", "Camera"):
        assert new[name] == old[name]
    assert (run_dir / "scene.prev.py").read_text() == original_script
    assert (run_dir / "edits" / "001" / "scene.py").read_text() == original_script
    assert (run_dir / "final.png").exists() and (run_dir / "scene.blend").exists()


def test_edit_without_a_literal_appends_a_marked_block(tmp_path):
    run = load_run(make_run(tmp_path / "run"))
    before = run.program
    result = edit_run(run, ["Cube.scale.z=2"], samples=4)
    after = extract_program(result.program.read_text())
    assert result.methods == [("Cube.scale.z = 2.0", "block")]
    assert all(line.startswith("+") for line in changed_lines(before, after))  # nothing else touched
    assert "# ---- seig edit: Cube.scale.z = 2.0 ----" in after
    old, new = scene_objects(before, tmp_path / "before.blend"), scene_objects(after, tmp_path / "after.blend")
    assert new["Cube"]["scale"] == [1.0, 1.0, 2.0]
    assert {**new["Cube"], "scale": old["Cube"]["scale"]} == old["Cube"]
    assert all(new[name] == old[name] for name in old if name != "Cube")


def test_edit_of_a_shared_material_changes_only_that_object(tmp_path):
    program = SCENE + "cube.data.materials.append(red)\n"
    run = load_run(make_run(tmp_path / "run", program))
    result = edit_run(run, ["Cube.material.base_color=#00ff00"], samples=4)
    assert result.methods[0][1] == "block"  # the literal is shared with the sphere, so it cannot be the edit
    scene = summary(run.program)
    cube_material = scene["Cube"]["materials"][0]
    assert scene["Sphere"]["materials"] == ["Red"] and cube_material != "Red"
    assert scene["_materials"][cube_material]["base_color"] == [0.0, 1.0, 0.0]
    assert scene["_materials"]["Red"]["base_color"] == [0.8, 0.1, 0.1]


def test_literal_edit_follows_the_last_write():
    program = (
        "import bpy\n"
        "bpy.ops.mesh.primitive_cube_add(location=(0, 0, 1))\n"
        "obj = bpy.context.active_object\n"
        "obj.name = 'Box'\n"
        "obj.location.z = 2.5\n"
    )
    edited = edit_literal(program, "Box", ("location", 2), 3.0)
    assert edited is not None and "obj.location.z = 3.0" in edited and "location=(0, 0, 1)" in edited
    assert "location=(0, 5.0, 1)" in edit_literal(program, "Box", ("location", 1), 5.0)
    computed = program + "obj.location.z = 2 * 1.5\n"
    assert edit_literal(computed, "Box", ("location", 2), 3.0) is None  # the last write is not a literal
    assert edit_literal(program, "Other", ("location", 2), 3.0) is None


def test_edit_on_a_thread_records_a_checkpoint(tmp_path):
    from seig.context import Context
    from seig.runs import get_run_state, run_history, start_run
    from seig.state.state import RunSettings

    ctx = Context(db_path=tmp_path / "seig.sqlite")
    photo = tmp_path / "photo.png"
    Image.new("RGB", (32, 32), (120, 80, 60)).save(photo)
    thread = start_run(photo, tmp_path / "run", RunSettings(), ctx)
    make_run(tmp_path / "run")
    run = load_run(thread, ctx)
    assert run.dir == (tmp_path / "run").resolve() and run.thread_id == thread
    result = edit_run(run, ["Sun.data.energy=5"], samples=4, ctx=ctx)
    assert result.checkpoint_id == run_history(thread, ctx)[-1].checkpoint_id
    assert "sun_data.energy = 5.0" in get_run_state(thread, ctx).best_program
    with pytest.raises(AppError, match="has not finished"):  # free text goes to the engine, which refuses
        edit_with_instruction(run, "make the sphere blue", model="openai:gpt-4o", ctx=ctx)


# ---- simulate, orbit, export ---------------------------------------------------------------


def test_simulation_drops_floating_objects_and_leaves_resting_ones(tmp_path):
    run = load_run(make_run(tmp_path / "run"))
    result = simulate(run, frames=30, long_side=32, samples=2, step=10)
    sphere, cube = result.objects["Sphere"], result.objects["Cube"]
    assert (sphere["shape"], cube["shape"]) == ("SPHERE", "BOX")
    assert sphere["z"][0] == pytest.approx(1.6, abs=1e-3)
    assert sphere["z"][-1] == pytest.approx(0.5, abs=0.03)  # fell and came to rest on the ground
    assert max(abs(z - 0.5) for z in cube["z"]) < 0.02  # already resting: stays put
    for body in (sphere, cube):
        assert min(body["bottom"]) > -0.03  # never through the ground
    assert len(iio.imread(result.gif, index=None)) >= 2
    assert result.blend.stat().st_size > 0


def test_drop_lifts_everything_first(tmp_path):
    run = load_run(make_run(tmp_path / "run"))
    result = simulate(run, frames=30, drop=0.5, long_side=32, samples=2, step=15)
    cube = result.objects["Cube"]
    assert cube["z"][0] == pytest.approx(1.0, abs=1e-3)
    assert cube["z"][-1] == pytest.approx(0.5, abs=0.03)
    assert min(cube["bottom"]) > -0.03


def test_orbit_frames_are_new_views_starting_from_the_original(tmp_path):
    run_dir = make_run(tmp_path / "run")
    run = load_run(run_dir)
    result = orbit(run, frames=6, long_side=48, samples=4)
    frames = iio.imread(result.gif, index=None).astype(np.float64)
    assert len(frames) == 6
    for i in range(6):
        for j in range(i + 1, 6):
            assert np.abs(frames[i] - frames[j]).mean() > 2.0, (i, j)
    original = shared_executor().run(run.program, render=RenderSpec(48, 36, 4), render_out=tmp_path / "orig.png")
    assert original.ok, original.error
    reference = np.asarray(Image.open(tmp_path / "orig.png").convert("RGB"), dtype=np.float64)
    assert np.abs(frames[0] - reference).mean() < 3.0  # GIF palette only


def test_export_glb_loads_back_with_every_mesh(tmp_path):
    run = load_run(make_run(tmp_path / "run"))
    glb = export(run, "glb")
    scene = trimesh.load(glb)
    meshes = [o for o in summary(run.program).values() if o.get("type") == "MESH"]
    assert len(scene.graph.nodes_geometry) == len(meshes) == 3
    usd = export(run, "usd", out=tmp_path / "scene.usda")
    assert "Sphere" in usd.read_text()
    assert set(inspect_blend(export(run, "blend"))) == {"Ground", "Cube", "Sphere", "Sun", "Camera"}


# ---- command line --------------------------------------------------------------------------


def test_cli_runs_the_apps(tmp_path):
    run_dir = make_run(tmp_path / "run")
    runner = CliRunner()
    result = runner.invoke(app, ["relight", str(run_dir), "--preset", "sunset", "--size", "32", "--samples", "2"])
    assert result.exit_code == 0, result.output
    assert (run_dir / "relit_sunset.png").exists() and (run_dir / "relit_sunset.py").exists()
    result = runner.invoke(app, ["edit", str(run_dir), "--set", "Cube.location.y=1", "--size", "32", "--samples", "2"])
    assert result.exit_code == 0, result.output
    assert "Cube.location.y = 1.0" in result.output
    result = runner.invoke(app, ["export", str(run_dir), "--format", "blend"])
    assert result.exit_code == 0 and (run_dir / "scene.blend").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["relight", "{missing}", "--preset", "night"], "neither a run directory nor a known thread id"),
        (["relight", "{empty}", "--preset", "night"], "no scene.py here"),
        (["relight", "{run}", "--preset", "noon"], "unknown preset 'noon'"),
        (["relight", "{run}", "--sun-direction", "45"], "must be 2 comma-separated numbers"),
        (["edit", "{run}", "--set", "Sphere.location.x"], "is not OBJECT.PROPERTY=VALUE"),
        (["edit", "{run}", "--set", "Sphere.location.x=left"], "is not a value"),
        (["edit", "{run}", "--set", "Teapot.location.x=1"], "no object named 'Teapot'"),
        (["edit", "{run}", "--set", "Sphere.colour=1"], "unknown property 'colour'"),
        (["edit", "{run}", "--set", "Sphere.material.shininess=1"], "has no 'shininess'"),
        (["edit", "{run}", "make the sphere metallic"], "free-text edits need a VLM"),
        (["export", "{run}", "--format", "obj"], "unknown format 'obj'"),
    ],
)
def test_cli_bad_input_is_one_clear_line(tmp_path, args, message):
    run_dir = make_run(tmp_path / "run")
    (tmp_path / "empty").mkdir()
    paths = {"run": run_dir, "empty": tmp_path / "empty", "missing": tmp_path / "missing"}
    args = [a.format(**paths) for a in args]
    result = CliRunner().invoke(app, args + ["--db", str(tmp_path / "seig.sqlite")])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert (run_dir / "scene.py").read_text() == standalone(SCENE, width=48, height=36, samples=4)
