"""Write the example photos shipped in ``examples/``: ``python -m seig.bench.make_examples [OUT]``.

They are generated scenes rather than real photos so that each comes with the
program that made it, and a reconstruction of them can be checked against it.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from seig.bench.generator import generate_scene
from seig.tools.executor import close_shared_executors

RESOLUTION = 256
SAMPLES = 64
# name: (seed, object kinds, object count), chosen by eye among the first few seeds.
EXAMPLES: dict[str, tuple[int, tuple[str, ...], int]] = {
    "tabletop": (4, ("table", "cube", "sphere", "cylinder", "cone"), 4),
    "shapes": (2, ("cube", "sphere", "cylinder", "cone", "torus"), 5),
    "snowman": (2, ("snowman", "sphere", "cone"), 3),
}


def make_examples(out_dir: Path) -> list[Path]:
    """Render each example to ``<name>.png`` with ``<name>.py`` (its program) and ``<name>.truth.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="seig-examples-") as scratch:
        for name, (seed, kinds, count) in EXAMPLES.items():
            case = generate_scene(
                seed, Path(scratch) / name, resolution=RESOLUTION, samples=SAMPLES, kinds=kinds, objects=count
            )
            for src, suffix in ((case.target_path, ".png"), (case.program_path, ".py"), (case.truth_path, ".truth.json")):
                dest = out_dir / f"{name}{suffix}"
                shutil.copyfile(src, dest)
                written.append(dest)
    return written


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("examples")
    try:
        for path in make_examples(out):
            print(path)
    finally:
        close_shared_executors()


if __name__ == "__main__":
    main()
