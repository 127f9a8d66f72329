"""The ``seig`` command. Each command group lives in its own module and registers itself on ``app``."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="seig",
    help="Staged Executable Inverse Graphics: one photograph in, an editable Blender program out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command modules register on import; the order here is the order of `seig --help`.
from seig.cli import reconstruct  # noqa: E402,F401
from seig.cli import exec_cmd  # noqa: E402,F401
from seig.cli import ui_cmd  # noqa: E402,F401
from seig.cli import apps  # noqa: E402,F401
from seig.cli import bench  # noqa: E402,F401


def main() -> None:
    """Run the CLI; an unexpected failure is one line (SEIG_DEBUG=1 shows the traceback)."""
    import os
    import sys

    try:
        app()
    except KeyboardInterrupt:
        print("interrupted; finished rounds are checkpointed (seig runs, then seig resume THREAD)", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("SEIG_DEBUG"):
            raise
        print(f"error: {type(exc).__name__}: {exc} (set SEIG_DEBUG=1 for details)", file=sys.stderr)
        sys.exit(1)
