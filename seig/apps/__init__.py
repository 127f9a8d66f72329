"""Things to do with a reconstructed scene: relight, edit, simulate, orbit, export.

Each takes a ``Run`` from ``load_run(dir_or_thread)`` and returns paths, so the
CLI (``seig.cli.apps``) and the Streamlit studio call the same functions:
``relight(run, *build_lighting("night"))``, ``edit_run(run, ["Sphere.location.x=-1"])``,
``simulate(run, frames=48, drop=1.0)``, ``orbit(run, frames=24)``, ``export(run, "glb")``.
Bad input raises ``AppError`` with a one-line message.
"""
