"""Each object judged once more by renders, under the final light: kept, dropped, or drawn as another shape.

Composition adds objects where a render and the photo disagreed and chooses each
shape class by its outline, when the light still fell from elsewhere. Under the
final light a render is the best judge there is: an object the picture is
better without is a misfit patched over (on the standard suite, the second table
that covered a table's shadow), and a shape whose outline fits about as well as
the chosen one's (a ring whose hole is hidden, a table seen as a box) may shade
far closer to the photo.
"""

from __future__ import annotations

from seig.models.classical.analysis import Analysis
from seig.models.classical.camera import View
from seig.models.classical.fit import outlined
from seig.models.classical.refine import Renderer
from seig.models.classical.scene import Scene
from seig.models.classical.search import best, rival_shapes
from seig.tools.metrics import psnr

# What the picture must gain for an object to go: discovery's bar (MIN_GAIN_DB) the other way. A near tie at loop size says
# little of a small object at full size: with no bar, unseen scene 2005 lost two small far objects (one went on +0.03 dB at
# 128 px) and 0.13 dB at 256.
DROP_GAIN_DB = 0.05
RIVALS = 4  # rival shapes tried per object, closest outline first: on the standard suite tables drawn as boxes had the table as second to fourth rival
RENDERS = 24  # the review's own renders: the scene, one without each object, then the rivals, while renders last


def review_objects(analysis: Analysis, scene: Scene, renderer: Renderer) -> Scene:
    """The scene without each object the picture is clearly better without, then with each outlined object's rivals kept where a render is closer."""
    image = renderer.image(scene)
    if image is None:
        return scene
    goal = renderer.goal(image.shape)

    def score(trial: Scene) -> float | None:
        probe = renderer.image(trial, candidate=False)  # a probe: only a closer picture makes it the scene
        return None if probe is None else psnr(goal, probe)

    current, current_score = scene, psnr(goal, image)
    k = 0
    while k < len(current.objects):
        trial = current.copy()
        del trial.objects[k]
        trial_score = score(trial)
        if trial_score is None:
            break
        if trial_score > current_score + DROP_GAIN_DB:
            current, current_score = trial, trial_score
        else:
            k += 1
    view = View(current.camera, analysis.width, analysis.height)
    rivals = {k: rival_shapes(analysis, view, obj)[:RIVALS] for k, obj in outlined(current, analysis)} if renderer.left > 0 else {}
    # every object's closest rival before any object's next one
    ranked = [(k, shapes[rank]) for rank in range(RIVALS) for k, shapes in rivals.items() if rank < len(shapes)]
    for k, rival in ranked:
        if renderer.left <= 0:
            break
        trial = current.copy()
        trial.objects[k] = rival
        trial_score = score(trial)
        if trial_score is not None and trial_score > current_score:
            current, current_score = trial, trial_score
    renderer.image(current)  # already rendered: this only offers it as the round's best
    return best(renderer, current)
