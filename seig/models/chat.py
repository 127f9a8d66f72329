"""Building a LangChain chat model from a model spec such as ``openai:gpt-4o``.

Provider SDK retries are switched off so that the backend's own backoff is the
only retry policy, and a missing key is reported before any request is made.
"""

from __future__ import annotations

import os

from langchain_core.language_models import BaseChatModel

from seig.models.errors import ModelConfigError

ACCEPTED_FORMS = (
    "'classical' (offline, no network)",
    "'openai:<model>' (needs OPENAI_API_KEY)",
    "'google_genai:<model>' (needs GOOGLE_API_KEY)",
    "'<model>' or 'openai:<model>' with a base URL, for an OpenAI-compatible server such as vLLM or Ollama",
)
REQUEST_TIMEOUT_SECONDS = 180.0
LOCAL_SERVER_KEY = "not-needed"


def make_chat_model(spec: str, *, base_url: str | None = None, api_key: str | None = None) -> BaseChatModel:
    """The chat model a spec names; raises ModelConfigError for unknown specs or missing keys."""
    spec = spec.strip()
    provider, _, name = spec.partition(":")
    if spec == "classical":
        raise ModelConfigError("'classical' is the offline backend, not a chat model")
    if base_url:
        if provider == "google_genai":
            raise ModelConfigError("a base URL is for OpenAI-compatible servers; google_genai models take none")
        model = name if provider == "openai" else spec
        if not model:
            raise _unknown(spec)
        return _chat_openai(model, base_url=base_url, api_key=api_key or LOCAL_SERVER_KEY)
    if provider == "openai" and name:
        return _chat_openai(name, base_url=None, api_key=_key(spec, api_key, "OPENAI_API_KEY"))
    if provider == "google_genai" and name:
        return _chat_google(name, api_key=_key(spec, api_key, "GOOGLE_API_KEY", "GEMINI_API_KEY"))
    raise _unknown(spec)


def _unknown(spec: str) -> ModelConfigError:
    return ModelConfigError(f"unknown model {spec!r}; accepted forms: " + "; ".join(ACCEPTED_FORMS))


def _key(spec: str, api_key: str | None, variable: str, *fallbacks: str) -> str:
    for candidate in (api_key, os.environ.get(variable), *(os.environ.get(v) for v in fallbacks)):
        if candidate and candidate.strip():
            return candidate.strip()
    raise ModelConfigError(f"{spec} needs an API key: set the {variable} environment variable or pass an API key")


def _chat_openai(model: str, *, base_url: str | None, api_key: str) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    try:
        return ChatOpenAI(
            model=model, base_url=base_url, api_key=api_key, timeout=REQUEST_TIMEOUT_SECONDS, max_retries=0
        )
    except ValueError as exc:
        raise ModelConfigError(f"could not set up OpenAI model {model!r}: {_first_line(exc)}") from None


def _chat_google(model: str, *, api_key: str) -> BaseChatModel:
    from langchain_google_genai import ChatGoogleGenerativeAI

    try:
        # One attempt per call: the SDK counts the original request as an attempt.
        return ChatGoogleGenerativeAI(
            model=model, google_api_key=api_key, timeout=REQUEST_TIMEOUT_SECONDS, max_retries=1
        )
    except ValueError as exc:
        raise ModelConfigError(f"could not set up Google model {model!r}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
