"""The engine's API: start, stream, resume, list, inspect and fork runs.

The CLI, the Streamlit studio and the benchmark all go through here, so a run
started in one can be resumed in another. Runs live in the SQLite checkpointer
(one thread per run); every step is checkpointed synchronously, so a process
killed at any point resumes from its last finished step.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import sqlite3
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from seig.context import Context
from seig.graph.graph import PREDECESSOR, build_graph
from seig.nodes.approval import parse_decision
from seig.state import state as state_module
from seig.state.state import RoundRecord, RunSettings, SeigState, StageStart
from seig.tools.images import save_target

log = logging.getLogger(__name__)
SQLITE_BUSY_TIMEOUT_MS = 60_000
# The state's pydantic models are the only custom types a checkpoint may hold.
CHECKPOINT_TYPES = [
    (state_module.__name__, name)
    for name in ("Plan", "PlannedObject", "Verdict", "Scores", "RoundRecord", "RunSettings", "PendingRound", "StageStart", "SeigState")
]


class RunNotFound(LookupError):
    """No run with that thread id (or directory) exists."""


class RunError(RuntimeError):
    """A run stopped on an error it reported; it stays resumable."""


@dataclass
class RunInfo:
    thread_id: str
    image: str
    model: str
    mode: str
    stage: str
    stage_index: int
    stages: int
    round: int
    status: str
    run_dir: str
    updated: str
    best_psnr: float | None


@dataclass
class CheckpointInfo:
    checkpoint_id: str
    step: int
    created: str
    next: tuple[str, ...]
    stage: str
    round: int
    rounds_done: int
    best_psnr: float | None
    source: str


_graphs: dict[str, object] = {}
_graphs_lock = threading.Lock()


def open_graph(ctx: Context):
    """The compiled graph bound to the SQLite checkpointer at ``ctx.db_path`` (one per process)."""
    db = Path(ctx.db_path).expanduser().resolve()
    with _graphs_lock:
        if str(db) not in _graphs:
            db.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(db), check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            saver = SqliteSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES))
            saver.setup()
            _graphs[str(db)] = build_graph(saver)
        return _graphs[str(db)]


def _config(thread_id: str, checkpoint_id: str | None = None) -> dict:
    configurable = {"thread_id": thread_id}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def new_thread_id(image: Path) -> str:
    stem = "".join(c if c.isalnum() else "-" for c in image.stem.lower())[:24].strip("-") or "run"
    return f"{stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def _holds_a_run(values: dict) -> bool:
    """False for the checkpoint written before the input: it holds only the channels' defaults."""
    return "image_path" in values


def read_snapshot(thread_id: str, ctx: Context, checkpoint_id: str | None = None):
    """The run's latest checkpoint (or the given one); RunNotFound when there is no run there yet."""
    snapshot = open_graph(ctx).get_state(_config(thread_id, checkpoint_id))
    if not _holds_a_run(snapshot.values):
        raise RunNotFound(f"no run with thread id '{thread_id}'" + (f" and checkpoint '{checkpoint_id}'" if checkpoint_id else ""))
    return snapshot


def get_run_state(thread_id: str, ctx: Context) -> SeigState:
    return SeigState.model_validate(read_snapshot(thread_id, ctx).values)


def run_status(snapshot) -> str:
    """done, failed, waiting (for approval), or stopped (resumable: interrupted by a crash or an error)."""
    values = snapshot.values
    if values.get("status") in ("done", "failed"):
        return values["status"]
    if snapshot.interrupts:
        return "waiting"
    return "stopped" if snapshot.next else "done"


def start_run(image: Path, out_dir: Path, settings: RunSettings, ctx: Context, thread_id: str | None = None) -> str:
    """Validate the photo, prepare the run directory and write the run's first checkpoint."""
    image = Path(image)
    out_dir = Path(out_dir).resolve()
    thread_id = thread_id or new_thread_id(image)
    graph = open_graph(ctx)
    if graph.get_state(_config(thread_id)).values:
        raise ValueError(f"a run with thread id '{thread_id}' already exists; use `seig resume {thread_id}`")
    save_target(image, out_dir / "target.png")  # raises BadImage before anything is recorded
    state = SeigState(image_path=str(image.resolve()), run_dir=str(out_dir), settings=settings)
    graph.invoke(state.model_dump(), _config(thread_id), context=ctx, interrupt_before=["planner"], durability="sync")
    return thread_id


def _events_from_update(node: str, update) -> Iterator[dict]:
    if node == "__interrupt__":
        for item in update:
            yield {"type": "interrupt", "payload": item.value}
    elif node == "verifier" and update:
        for record in update.get("history", []):
            record = record.model_dump(mode="json") if isinstance(record, RoundRecord) else record
            yield {"type": "round", "record": record, "stage_done": update.get("stage_done", False)}
    elif node == "finalize" and update:
        if update.get("status") == "done":
            yield {"type": "done", "outputs": update.get("outputs", {})}
        else:
            yield {"type": "error", "message": update.get("error") or "the run failed"}
    elif node == "planner" and update and update.get("plan") is not None:
        plan = update["plan"]
        yield {"type": "plan", "plan": plan.model_dump() if hasattr(plan, "model_dump") else plan}


def stream_run(thread_id: str, ctx: Context, resume: dict | str | None = None) -> Iterator[dict]:
    """Run until the graph interrupts or ends, yielding progress, round, interrupt, done and error events.

    Errors are yielded, not raised: the run keeps its last checkpoint and can be resumed.
    """
    graph = open_graph(ctx)
    snapshot = read_snapshot(thread_id, ctx)
    if snapshot.interrupts and resume is None:
        for item in snapshot.interrupts:
            yield {"type": "interrupt", "payload": item.value}
        return
    if not snapshot.next:
        state = snapshot.values
        yield {"type": "done", "outputs": state.get("outputs", {})} if state.get("status") == "done" else {
            "type": "error",
            "message": state.get("error") or "the run has ended",
        }
        return
    if resume is not None:
        parse_decision(resume)  # refuse a malformed decision before touching the run
    command = Command(resume=resume) if resume is not None else None
    try:
        for mode, chunk in graph.stream(
            command, _config(thread_id), context=ctx, stream_mode=["custom", "updates"], durability="sync"
        ):
            if mode == "custom":
                yield chunk
            else:
                for node, update in chunk.items():
                    yield from _events_from_update(node, update)
    except Exception as exc:  # the run stays at its last checkpoint
        run_dir = Path(snapshot.values["run_dir"])
        run_dir.mkdir(parents=True, exist_ok=True)
        with open(run_dir / "error.log", "a") as fh:
            fh.write(f"--- {datetime.now(timezone.utc).isoformat()}\n{traceback.format_exc()}\n")
        yield {"type": "error", "message": f"{type(exc).__name__}: {exc}", "resumable": True}


def drive(thread_id: str, ctx: Context, resume: dict | str | None = None) -> list[dict]:
    """Run to the next stop and return all events (for callers that do not stream)."""
    return list(stream_run(thread_id, ctx, resume))


def reconstruct(
    image: Path, out_dir: Path, settings: RunSettings, ctx: Context | None = None, thread_id: str | None = None
) -> dict:
    """Reconstruct an image end to end with no approvals and return the parsed report.json."""
    ctx = ctx or Context()
    settings = settings.model_copy(update={"approve": "never"})
    thread_id = start_run(image, out_dir, settings, ctx, thread_id)
    for event in stream_run(thread_id, ctx):
        if event["type"] == "error":
            raise RunError(event["message"])
    report = Path(out_dir) / "report.json"
    if not report.exists():
        raise RunError(f"the run {thread_id} ended without a report")
    return json.loads(report.read_text())


def list_runs(ctx: Context) -> list[RunInfo]:
    """Every run in the checkpointer, newest first."""
    graph = open_graph(ctx)
    conn: sqlite3.Connection = graph.checkpointer.conn
    with graph.checkpointer.lock:
        rows = conn.execute("SELECT DISTINCT thread_id FROM checkpoints WHERE checkpoint_ns = ''").fetchall()
    runs = []
    for (thread_id,) in rows:
        snapshot = graph.get_state(_config(thread_id))
        if not _holds_a_run(snapshot.values):
            continue
        state = SeigState.model_validate(snapshot.values)
        runs.append(
            RunInfo(
                thread_id=thread_id,
                image=state.image_path,
                model=state.settings.model,
                mode=state.settings.mode,
                stage=state.stage,
                stage_index=state.stage_index,
                stages=len(state.stages),
                round=state.round,
                status=run_status(snapshot),
                run_dir=state.run_dir,
                updated=snapshot.created_at or "",
                best_psnr=state.best_scores.psnr if state.best_scores else None,
            )
        )
    return sorted(runs, key=lambda r: r.updated, reverse=True)


def run_history(thread_id: str, ctx: Context) -> list[CheckpointInfo]:
    """The run's checkpoints, oldest first; any of them can be forked."""
    read_snapshot(thread_id, ctx)
    history = []
    for snap in open_graph(ctx).get_state_history(_config(thread_id)):
        if not _holds_a_run(snap.values):
            continue
        state = SeigState.model_validate(snap.values)
        history.append(
            CheckpointInfo(
                checkpoint_id=snap.config["configurable"]["checkpoint_id"],
                step=snap.metadata.get("step", -1) if snap.metadata else -1,
                created=snap.created_at or "",
                next=tuple(snap.next),
                stage=state.stage,
                round=state.round,
                rounds_done=len(state.history),
                best_psnr=state.best_scores.psnr if state.best_scores else None,
                source=(snap.metadata or {}).get("source", ""),
            )
        )
    return list(reversed(history))


def fork_run(
    thread_id: str,
    checkpoint_id: str,
    ctx: Context,
    *,
    out_dir: Path | None = None,
    new_thread_id: str | None = None,
    **overrides,
) -> str:
    """Copy a checkpoint into a new thread (optionally with other settings); the original is untouched."""
    snapshot = read_snapshot(thread_id, ctx, checkpoint_id)
    state = SeigState.model_validate(snapshot.values)
    unknown = set(overrides) - set(RunSettings.model_fields)
    if unknown:
        raise ValueError(f"unknown settings to override: {', '.join(sorted(unknown))}")
    settings = state.settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    settings = RunSettings.model_validate(settings.model_dump())
    new_id = new_thread_id or f"{thread_id.rsplit('-fork', 1)[0]}-fork-{secrets.token_hex(2)}"
    target_dir = Path(out_dir).resolve() if out_dir else Path(state.run_dir).parent / new_id
    target_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(Path(state.run_dir) / "target.png", target_dir / "target.png")
    forked = state.model_copy(update={"settings": settings, "run_dir": str(target_dir), "status": "running", "outputs": {}})
    next_node = snapshot.next[0] if snapshot.next else "finalize"
    if PREDECESSOR[next_node] == "verifier":  # the verifier's router decides again, so a larger budget resumes a stage it had ended
        last = state.history[-1] if state.history else None
        passed = bool(last and last.verdict and last.verdict.passed)
        forked = forked.model_copy(update={"stage_done": forked.stage_ends(passed, forked.round)})
    graph = open_graph(ctx)
    graph.update_state(_config(new_id), forked.model_dump(), as_node=PREDECESSOR[next_node])
    return new_id


def record_edit(thread_id: str, program: str, note: str, ctx: Context | None = None) -> str:
    """A new checkpoint on the run's thread whose best program is ``program`` (undo = fork the one before)."""
    ctx = ctx or Context()
    state = get_run_state(thread_id, ctx)
    record = RoundRecord(stage="edit", round=len(state.history) + 1, program_path="", feedback=[note], kept=True)
    config = open_graph(ctx).update_state(
        _config(thread_id), {"best_program": program, "history": [record]}, as_node="finalize"
    )
    return config["configurable"]["checkpoint_id"]


def edit_with_model(
    thread_id: str,
    instruction: str,
    ctx: Context,
    *,
    model: str | None = None,
    base_url: str | None = None,
    rounds: int = 3,
) -> Iterator[dict]:
    """Carry out a free-text edit of a finished run with a VLM, through the code-then-verify loop.

    The edit is one more stage on the run's own thread, so the checkpoints before
    it are the undo: fork the run at one of them to get the unedited scene back.
    """
    state = get_run_state(thread_id, ctx)
    if state.status != "done" or not state.best_program:
        raise ValueError(f"run '{thread_id}' has not finished; resume it before editing")
    if not instruction.strip():
        raise ValueError("the edit instruction is empty")
    updates = {"edit_instruction": instruction.strip(), "edit_rounds": rounds}
    updates.update({k: v for k, v in (("model", model), ("base_url", base_url)) if v})
    settings = state.settings.model_copy(update=updates)
    if settings.model == "classical":
        raise ValueError("free-text edits need a VLM (--model openai:<name> ...); offline, use --set Object.prop=value")
    start = StageStart(program=state.best_program, render=state.best_render, backend_state=state.backend_state)
    open_graph(ctx).update_state(
        _config(thread_id),
        {
            "settings": settings,
            "stage_index": 0,
            "round": 0,
            "extra_rounds": 0,
            "carried_rounds": 0,
            "stage_done": False,
            "decision": None,
            "todo": [instruction.strip()],
            "last_error": None,
            "best_score": None,
            "stage_start": start,
            "status": "running",
        },
        as_node="planner",
    )
    return stream_run(thread_id, ctx)


def resolve_run_dir(run_or_thread: str, ctx: Context | None = None) -> Path:
    """A run's output directory from either the directory itself or its thread id."""
    path = Path(run_or_thread).expanduser()
    if path.is_dir():
        return path.resolve()
    ctx = ctx or Context()
    try:
        return Path(get_run_state(run_or_thread, ctx).run_dir)
    except RunNotFound:
        raise RunNotFound(f"'{run_or_thread}' is neither a run directory nor a known thread id") from None

