"""Form pieces shared by the new-run form and the fork form."""

from __future__ import annotations

import streamlit as st

from seig.state.state import DEFAULT_BUDGETS, STAGES
from seig.ui.inputs import DEFAULT_MODEL_NAMES, KEY_VARIABLES, PROVIDERS, model_spec


def model_picker(prefix: str) -> tuple[str, str | None, str | None]:
    """(model spec, base URL or None, typed key or None); raises ValueError when a name is missing."""
    provider = st.selectbox(
        "Model", list(PROVIDERS), format_func=PROVIDERS.__getitem__, key=f"{prefix}-provider"
    )
    if provider == "classical":
        return "classical", None, None
    name = st.text_input("Model name", value=DEFAULT_MODEL_NAMES[provider], key=f"{prefix}-model-name-{provider}")
    base_url = None
    if provider == "compatible":
        base_url = st.text_input("Server URL", placeholder="http://localhost:8000/v1", key=f"{prefix}-base-url")
        if not base_url.strip():
            raise ValueError("type the URL of the OpenAI-compatible server")
    help_text = f"Kept in this tab's memory only, never written to disk. Leave empty to use ${KEY_VARIABLES.get(provider, '')}."
    key = st.text_input("API key", type="password", key=f"{prefix}-api-key", help=help_text)
    return model_spec(provider, name), base_url, key or None


def budget_inputs(prefix: str, defaults: dict[str, int] | None = None) -> dict[str, int]:
    """Rounds per stage; zero skips a stage."""
    defaults = defaults or DEFAULT_BUDGETS
    columns = st.columns(len(STAGES))
    return {
        stage: int(
            column.number_input(stage, min_value=0, max_value=20, value=int(defaults.get(stage, 0)), key=f"{prefix}-budget-{stage}")
        )
        for stage, column in zip(STAGES, columns)
    }
