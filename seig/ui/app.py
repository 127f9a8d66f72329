"""The seig studio, a Streamlit script: ``seig ui`` runs it, ``streamlit run`` works too.

Streamlit re-executes this file on every interaction, so it only lays out
the page; runs execute in ``seig.ui.jobs`` threads and live in the checkpointer.
"""

import sqlite3

import streamlit as st

from seig import runs
from seig.ui import session
from seig.ui.new_run import show_new_run_form
from seig.ui.run_view import show_run
from seig.ui.sidebar import show_sidebar

st.set_page_config(page_title="seig studio", page_icon="🧊", layout="wide")

try:
    runs.open_graph(session.context_for())
except (sqlite3.Error, OSError) as exc:
    st.error(f"Cannot open the run database {session.context_for().db_path}: {exc}. Point SEIG_DB (or seig ui --db) at a writable file.")
    st.stop()

with st.sidebar:
    show_sidebar()

run = session.selected_run()
if run:
    show_run(run)
else:
    show_new_run_form()
