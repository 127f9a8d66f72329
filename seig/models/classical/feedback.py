"""Acting on a person's short notes ("brighter", "make the red sphere bigger", "more metallic").

No language model here: a handful of phrases, matched as words, each mapped to
a concrete edit of the scene estimate. Anything not understood is reported
back rather than silently ignored.
"""

from __future__ import annotations

import re

from seig.models.classical.scene import Scene, SceneObject

STEP = 1.25


def _targets(text: str, scene: Scene) -> list[SceneObject]:
    """Objects the note names (by full name, or by shape or colour word); all objects when none is named."""
    words = set(re.findall(r"[a-z]+", text))
    named = [o for o in scene.objects if o.name.replace("_", " ") in text or o.name in text]
    if not named:
        named = [o for o in scene.objects if set(o.name.split("_")) & words - {"the", "a"}]
    return named or list(scene.objects)


def apply_feedback(text: str, scene: Scene) -> tuple[Scene, list[str]]:
    """The edited scene and one line per edit made (or a line saying nothing was understood)."""
    scene = scene.copy()
    note = text.lower()
    done: list[str] = []
    words = set(re.findall(r"[a-z]+", note))
    objects = _targets(note, scene)
    names = ", ".join(o.name for o in objects) or "nothing"

    if words & {"brighter", "lighter"}:
        scene.light.strength *= STEP
        done.append(f"light strength x{STEP}")
    if words & {"darker", "dimmer"}:
        scene.light.strength /= STEP
        done.append(f"light strength /{STEP}")
    if words & {"bigger", "larger"}:
        for o in objects:
            o.sx, o.sy, o.sz = o.sx * 1.15, o.sy * 1.15, o.sz * 1.15
        done.append(f"scaled up {names} by 15%")
    if words & {"smaller"}:
        for o in objects:
            o.sx, o.sy, o.sz = o.sx / 1.15, o.sy / 1.15, o.sz / 1.15
        done.append(f"scaled down {names} by 15%")
    for word, axis, sign in (("left", "x", -1), ("right", "x", 1), ("back", "y", 1), ("further", "y", 1), ("closer", "y", -1), ("forward", "y", -1)):
        if word in words and words & {"move", "shift", "push"}:
            for o in objects:
                setattr(o, axis, getattr(o, axis) + sign * 0.5 * max(o.sx, 0.1))
            done.append(f"moved {names} {word}")
    if "metallic" in words or "metal" in words:
        value = 0.0 if words & {"less", "not", "no"} else 1.0
        for o in objects:
            o.metallic = value
        done.append(f"metallic set to {value:.0f} on {names}")
    if words & {"shinier", "glossy", "glossier", "shiny"}:
        for o in objects:
            o.roughness = max(0.05, o.roughness * 0.5)
        done.append(f"halved roughness on {names}")
    if words & {"rougher", "matte", "duller"}:
        for o in objects:
            o.roughness = min(1.0, o.roughness * 1.6 + 0.1)
        done.append(f"raised roughness on {names}")
    if words & {"warmer", "cooler", "colder"}:
        warm = "warmer" in words
        scene.light.color = [1.0, 0.93, 0.82] if warm else [0.85, 0.92, 1.0]
        done.append(f"light colour made {'warmer' if warm else 'cooler'}")
    if not done:
        done.append(f"did not understand the note '{text.strip()}'; no change made for it")
    return scene, done
