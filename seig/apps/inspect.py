"""A detailed dump of a saved scene, for checking that an edit changed exactly what it named.

Runs inside a trusted job (``seig.tools.trusted_job``) on a sandbox-written
.blend: transforms, the first material's Principled BSDF inputs, and the
numeric settings of light and camera data, keyed the way ``seig edit`` names them.
"""

from __future__ import annotations

TRANSFORMS = ("location", "rotation_euler", "scale")


def input_key(name: str) -> str:
    """'Base Color' -> 'base_color': how users name a Principled input."""
    return name.strip().lower().replace(" ", "_")


def _plain(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return round(float(value), 6)
    try:
        items = list(value)
    except TypeError:
        return None
    if items and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        return [round(float(v), 6) for v in items]
    return None


def first_principled(obj):
    """The Principled BSDF of the object's first material, or None."""
    for slot in getattr(obj, "material_slots", []):
        material = slot.material
        if material is None or material.node_tree is None:
            continue
        return next((n for n in material.node_tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
    return None


def describe_object(obj) -> dict:
    item = {"type": obj.type}
    for name in TRANSFORMS:
        item[name] = _plain(getattr(obj, name))
    bsdf = first_principled(obj)
    if bsdf is not None:
        inputs = {}
        for socket in bsdf.inputs:
            if hasattr(socket, "default_value"):
                value = _plain(socket.default_value)
                if value is not None:
                    inputs[input_key(socket.name)] = value
        item["material"] = inputs
    if obj.type in ("LIGHT", "CAMERA") and obj.data is not None:
        data = {}
        for prop in obj.data.bl_rna.properties:
            if prop.type in ("FLOAT", "INT", "BOOLEAN") and not prop.is_readonly and getattr(prop, "array_length", 0) <= 4:
                value = _plain(getattr(obj.data, prop.identifier))
                if value is not None:
                    data[prop.identifier] = value
        item["data"] = data
    return item


def blender_job(bpy, job: dict, progress) -> dict:
    return {"objects": {obj.name: describe_object(obj) for obj in bpy.context.scene.objects}}


def inspect_blend(blend, *, timeout: float = 120.0) -> dict:
    """The dump of a sandbox-written .blend, computed in a trusted bpy process."""
    from seig.tools.trusted_job import run_trusted

    return run_trusted({"kind": "inspect", "blend": str(blend)}, timeout=timeout)["objects"]
