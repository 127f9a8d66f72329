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
from seig.cli import ui_cmd  # noqa: E402,F401


def main() -> None:
    app()
