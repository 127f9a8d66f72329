"""What a browser tab remembers: which run it shows (in the URL) and typed API keys (in memory).

The selected run lives in the query string so a reloaded or reopened tab
comes back to the same run; keys live only in this tab's session state and
are handed to the engine through ``Context.api_key``, never written to disk.
"""

from __future__ import annotations

import streamlit as st

from seig.context import Context

KEYS = "seig_api_keys"


def selected_run() -> str | None:
    return st.query_params.get("run") or None


def open_run(thread_id: str | None) -> None:
    if thread_id:
        st.query_params["run"] = thread_id
    else:
        st.query_params.pop("run", None)


def remember_key(thread_id: str, key: str | None) -> None:
    if key and key.strip():
        st.session_state.setdefault(KEYS, {})[thread_id] = key.strip()


def context_for(thread_id: str | None = None) -> Context:
    """A fresh machine context (database from SEIG_DB) carrying this tab's key for the run, if any."""
    key = st.session_state.get(KEYS, {}).get(thread_id) if thread_id else None
    return Context(api_key=key)
