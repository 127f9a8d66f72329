"""``seig ui``: start the Streamlit studio on localhost."""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path

import typer

from seig.cli import app

APP_SCRIPT = Path(__file__).resolve().parent.parent / "ui" / "app.py"


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


@app.command("ui")
def ui(
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="Port to listen on (localhost only)."),
    db: Path = typer.Option(None, "--db", help="Run database (default: $SEIG_DB or runs/seig.sqlite)."),
) -> None:
    """Open the studio: start runs, watch them, approve stages, fork from any checkpoint."""
    if not _port_is_free(port):
        typer.echo(f"Error: port {port} on 127.0.0.1 is already in use; choose another with --port.", err=True)
        raise typer.Exit(2)
    if db is not None:
        if db.is_dir():
            typer.echo(f"Error: --db {db} is a directory; give a file path such as {db / 'seig.sqlite'}.", err=True)
            raise typer.Exit(2)
        os.environ["SEIG_DB"] = str(db.resolve())
    typer.echo(f"seig studio: http://127.0.0.1:{port}  (database: {os.environ.get('SEIG_DB', 'runs/seig.sqlite')})")
    sys.stdout.flush()
    # exec keeps one process: Ctrl-C or a kill of this pid stops the server and nothing is left behind.
    os.execv(
        sys.executable,
        [
            sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT),
            "--server.address", "127.0.0.1",
            "--server.port", str(port),
            "--server.headless", "true",
            "--server.fileWatcherType", "none",
            "--server.runOnSave", "false",
            "--server.maxUploadSize", "50",
            "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "minimal",
            "--theme.base", "light",
        ],
    )
