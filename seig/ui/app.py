"""The seig studio, a Streamlit script: ``seig ui`` runs it, ``streamlit run`` works too.

Streamlit re-executes this file on every interaction, so it only lays out
the page; runs execute in ``seig.ui.jobs`` threads and live in the checkpointer.
"""

import streamlit as st

from seig.ui import session
from seig.ui.new_run import show_new_run_form
from seig.ui.run_view import show_run
from seig.ui.sidebar import show_sidebar

st.set_page_config(page_title="seig studio", page_icon="🧊", layout="wide")

with st.sidebar:
    show_sidebar()

run = session.selected_run()
if run:
    show_run(run)
else:
    show_new_run_form()
