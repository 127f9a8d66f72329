"""The static policy: normal scene programs pass, tricks are refused with a line number and a reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from seig.tools.policy import MAX_PROGRAM_CHARS, check_program

HOSTILE = sorted((Path(__file__).parent / "hostile").glob("*.py"))

SCENE = '''
import bpy, bmesh, math, random, colorsys
from mathutils import Vector, Matrix

def material(name, rgb, roughness=0.5):
    mat = bpy.data.materials.new(name=name)
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    return mat

bpy.ops.mesh.primitive_cube_add(size=1, location=(0, 0, 0.5))
cube = bpy.context.active_object
cube.data.materials.append(material("red", colorsys.hsv_to_rgb(0.0, 0.8, 0.9)))
sub = cube.modifiers.new("smooth", type="SUBSURF")
sub.levels = 2
bevel = cube.modifiers.new("bevel", "BEVEL")
bpy.ops.object.shade_smooth()
if bpy.ops.object.mode_set.poll():
    bpy.ops.object.mode_set(mode="OBJECT")
bm = bmesh.new()
bmesh.ops.create_uvsphere(bm, u_segments=16, v_segments=8, radius=0.5)
mesh = bpy.data.meshes.new("ball")
bm.to_mesh(mesh)
bm.free()
ball = bpy.data.objects.new("ball", mesh)
bpy.context.scene.collection.objects.link(ball)
ball.location = Vector((1.5, 0, 0.5)) + Vector((random.uniform(-0.1, 0.1), 0, 0))
tree = ball.data.materials
glass = bpy.data.materials.new("glass")
nodes = glass.node_tree.nodes
noise = nodes.new("ShaderNodeTexNoise")
glass.node_tree.links.new(noise.outputs["Color"], nodes["Principled BSDF"].inputs["Base Color"])
tree.append(glass)
bpy.ops.mesh.primitive_plane_add(size=20)
world = bpy.context.scene.world
world.node_tree.nodes["Background"].inputs[0].default_value = (0.05, 0.05, 0.08, 1)
light = bpy.data.objects.new("key", bpy.data.lights.new("key", type="AREA"))
light.data.energy = 500
light.location = (3, -3, 5)
bpy.context.scene.collection.objects.link(light)
bpy.ops.object.camera_add(location=(6, -6, 4), rotation=(math.radians(63), 0, math.radians(45)))
bpy.context.scene.camera = bpy.context.object
cube.keyframe_insert(data_path="location", frame=1)
print(f"{len(bpy.data.objects)} objects", "{:.2f} {}".format(1.5, "ok"))
if bpy.app.version >= (4, 0, 0):
    pass
'''


def test_a_normal_scene_program_passes():
    assert check_program(SCENE) == []


def test_benchmark_and_classical_programs_pass():
    generator = pytest.importorskip("seig.bench.generator")
    classical = pytest.importorskip("seig.models.classical.program")
    scene = pytest.importorskip("seig.models.classical.scene")
    for seed in range(12):
        assert check_program(generator.write_program(generator.sample_truth(seed))) == [], seed
    estimate = scene.Scene()
    estimate.objects = [scene.SceneObject(name=f"o{i}", shape=s) for i, s in enumerate(scene.SHAPES)]
    assert check_program(classical.write_program(estimate, title="test")) == []


@pytest.mark.parametrize("path", [p for p in HOSTILE], ids=[p.stem for p in HOSTILE])
def test_hostile_corpus_verdicts(path):
    code = path.read_text().replace("@PORT@", "9").replace("@PPID@", "1").replace("@VICTIM@", "1")
    problems = check_program(code)
    if "# policy: refuse" in code:
        assert problems and all(re.match(r"line \d+: ", p) for p in problems), problems
    else:
        assert problems == []


TRICKS = {
    "alias of bpy": ("import bpy\nb = bpy\nb.ops.wm.quit_blender()\n", "bpy.ops.wm"),
    "alias of bpy.ops": ("import bpy\nops = bpy.ops\nops.mesh.primitive_cube_add()\n", "called directly"),
    "from bpy import ops": ("from bpy import ops\nops.wm.quit_blender()\n", "from bpy import ops"),
    "import bpy.utils": ("import bpy.utils as u\nu.register_class(object)\n", "bpy.utils"),
    "getattr chain": ('import bpy\ngetattr(getattr(bpy, "ops"), "wm").quit_blender()\n', "getattr' of 'ops"),
    "getattr built name": ('import bpy\ngetattr(bpy, "o" + "ps")\n', "literal attribute name"),
    "getattribute": ('import bpy\nbpy.ops.__getattribute__("wm")\n', "private attribute"),
    "type() climb": ("t = type(1).mro()\n", "mro"),
    "gi_frame": ("def g():\n    yield 1\nf = g().gi_frame\n", "gi_frame"),
    "format attribute": ('import bpy\n"{0.__class__}".format(bpy)\n', "strings containing '__'"),
    "format dotted field": ('import bpy\n"{0.ops.wm}".format(bpy)\n', "'.format' needs a literal"),
    "format non-literal": ('t = "{0.x}"\nt.format(1)\n', "'.format' needs a literal"),
    "format_map": ('"{a}".format_map({"a": 1})\n', "format_map"),
    "str.format unbound": ('str.format("{0.real}", 1)\n', "'.format' needs a literal"),
    "lambda default": ("import bpy\nf = lambda q=bpy.ops.wm.quit_blender: q()\n", "called directly"),
    "decorator": ("import bpy\n@bpy.app.handlers.persistent\ndef h(*a):\n    pass\n", "bpy.app"),
    "driver expression": ('import bpy\nd = bpy.context.object.animation_data\nd.drivers[0].driver.expression = "1"\n', "drivers"),
    "driver use_self": ("import bpy\nx = bpy.context.object\nx.use_self = True\n", "use_self"),
    "osl node": ('import bpy\nm = bpy.data.materials.new("m")\nm.node_tree.nodes.new("ShaderNodeScript")\n', "ShaderNodeScript"),
    "osl external": ('import bpy\nn = bpy.context.object\nn.mode = "EXTERNAL"\nn.filepath = "x.osl"\n', "filepath"),
    "osl enabled": ("import bpy\nbpy.context.scene.cycles.shading_system = True\n", "shading_system"),
    "node type built": ('import bpy\nm = bpy.data.materials.new("m")\nm.node_tree.nodes.new("Shader" + "NodeScript")\n', "literal node type"),
    "text as_module": ('import bpy\nbpy.types.Text.as_module(None)\n', "as_module"),
    "text use_module": ('import bpy\nt = bpy.data.texts.new("a.py")\nt.use_module = True\n', "texts"),
    "string annotation": ('def f(x: "__import__(\'os\')"):\n    pass\n', "annotation"),
    "attrgetter": ('import operator\nget = operator.attrgetter("ops")\n', "attrgetter"),
    "match class attribute": ("match 1:\n    case int(_x=1):\n        pass\n", "matching on attribute"),
    "app tempdir": ("import bpy\nd = bpy.app.tempdir\n", "bpy.app.version"),
    "filepath keyword": ('import bpy\nbpy.ops.object.empty_image_add(filepath="a.png")\n', "filepath="),
    "file operator": ("import bpy\nbpy.ops.object.multires_external_save()\n", "reads or writes files"),
    "absolute path": ('name = "/etc/passwd"\n', "outside the run directory"),
    "parent path": ('name = "textures/../../../secret"\n', "outside the run directory"),
    "blender relative path": ('name = "//cache"\n', "outside the run directory"),
    "url": ('u = "https://example.com/x"\n', "outside the run directory"),
    "preferences": ("import bpy\np = bpy.context.preferences\n", "preferences"),
    "compositor file output": ('import bpy\nt = bpy.data.node_groups.new("c", "CompositorNodeTree")\nt.nodes.new("CompositorNodeOutputFile")\n', "CompositorNodeOutputFile"),
    "star import": ("from bpy import *\n", "import *"),
    "relative import": ("from . import x\n", "import from '.'"),
    "builtins name": ("b = __builtins__\n", "__builtins__"),
    "vars": ("import bpy\nvars(bpy)\n", "'vars'"),
}


@pytest.mark.parametrize("name", TRICKS)
def test_tricks_are_refused_with_a_reason(name):
    code, reason = TRICKS[name]
    problems = check_program(code)
    assert problems, name
    assert any(reason in p for p in problems), problems


def test_refusals_name_the_line():
    problems = check_program("import bpy\n\n\nx = open('a')\n")
    assert problems == ["line 4: 'open' is not allowed in a scene program"]


def test_unparsable_programs_are_refused_not_raised():
    assert check_program("x = (\n")[0].startswith("line 1: SyntaxError")
    assert "limit" in check_program("x = 1\n" * (MAX_PROGRAM_CHARS // 6 + 1))[0]
    assert check_program("x = " + "-" * 150_000 + "1\n")  # deep nesting: refused, never a crash
    assert check_program("x = " + "(" * 300 + ")" * 300 + "\n")


def test_docstrings_may_say_anything():
    assert check_program('"""Reads nothing from /etc or ../ and uses no __dunders__."""\nimport bpy\n') == []
