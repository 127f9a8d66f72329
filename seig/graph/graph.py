"""Wires the SEIG state machine. Nodes live in ``seig.nodes``; routers in ``routing``."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from seig.context import Context
from seig.graph.routing import after_approval, after_execute, after_verify
from seig.nodes.advance import advance
from seig.nodes.approval import approve
from seig.nodes.coder import write_code
from seig.nodes.executor import execute
from seig.nodes.finalize import finalize
from seig.nodes.planner import plan
from seig.nodes.renderer import render
from seig.nodes.verifier import verify
from seig.state.state import SeigState

# For a fork into a new thread: a node whose outgoing edge leads to the given next node.
PREDECESSOR = {
    "planner": START,
    "coder": "planner",
    "executor": "coder",
    "renderer": "executor",
    "verifier": "renderer",
    "approval": "verifier",
    "advance": "verifier",
    "finalize": "verifier",
}


def build_graph(checkpointer=None):
    builder = StateGraph(SeigState, context_schema=Context)
    builder.add_node("planner", plan)
    builder.add_node("coder", write_code)
    builder.add_node("executor", execute)
    builder.add_node("renderer", render)
    builder.add_node("verifier", verify)
    builder.add_node("approval", approve)
    builder.add_node("advance", advance)
    builder.add_node("finalize", finalize)

    builder.add_edge(START, "planner")
    builder.add_edge("planner", "coder")
    builder.add_edge("coder", "executor")
    builder.add_conditional_edges("executor", after_execute)
    builder.add_edge("renderer", "verifier")
    builder.add_conditional_edges("verifier", after_verify)
    builder.add_conditional_edges("approval", after_approval)
    builder.add_edge("advance", "coder")
    builder.add_edge("finalize", END)
    return builder.compile(checkpointer=checkpointer, name="seig")
