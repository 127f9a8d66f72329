"""Model backends behind one ``Backend`` protocol, and the factory that picks one for a run."""

from __future__ import annotations

from seig.context import Context
from seig.models.base import Backend
from seig.models.chat import ACCEPTED_FORMS, make_chat_model
from seig.models.errors import ModelAnswerError, ModelConfigError, ModelError, ProviderError
from seig.state.state import RunSettings

CLASSICAL = "classical"

__all__ = [
    "ACCEPTED_FORMS",
    "ModelAnswerError",
    "ModelConfigError",
    "ModelError",
    "ProviderError",
    "make_backend",
    "make_chat_model",
]


def make_backend(settings: RunSettings, ctx: Context) -> Backend:
    """The backend a run asked for: the offline classical one, or a chat model (ctx.chat_model wins)."""
    if settings.model == CLASSICAL:
        from seig.models.classical import ClassicalBackend

        return ClassicalBackend()
    from seig.models.llm import LLMBackend

    chat_model = ctx.chat_model
    if chat_model is None:
        chat_model = make_chat_model(settings.model, base_url=settings.base_url, api_key=ctx.api_key)
    return LLMBackend(chat_model, retries=ctx.model_retries)
