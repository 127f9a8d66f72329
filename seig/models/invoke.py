"""Calling a chat model: backoff on provider failures, and structured answers with repair turns.

Provider failures and bad answers are different problems: the first is solved
by waiting and asking again unchanged, the second by telling the model what
was wrong. Both end in a one-line exception from ``seig.models.errors``.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterator, TypeVar

import httpx
import openai
from langchain_core import exceptions as lc_errors
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel, ValidationError

from seig.models.content import extract_json_object
from seig.models.errors import ModelAnswerError, ModelConfigError, ProviderError
from seig.prompts import render_prompt

Schema = TypeVar("Schema", bound=BaseModel)

RETRYABLE_STATUS = frozenset({408, 409, 429})
# Failures to reach the provider at all, for SDK errors that LangChain did not wrap.
TRANSPORT_ERRORS = (TimeoutError, ConnectionError, httpx.TransportError, openai.APIConnectionError)


def usage_tokens(message: Any) -> int:
    """Total tokens an AI message reports in ``usage_metadata``; 0 when the provider reports none."""
    usage = getattr(message, "usage_metadata", None) or {}
    total = usage.get("total_tokens") or (usage.get("input_tokens", 0) + usage.get("output_tokens", 0))
    return int(total or 0)


def describe(exc: BaseException | None) -> str:
    """One short line for an exception, fit for a prompt or a terminal."""
    if exc is None:
        return "no answer"
    text = " ".join(str(exc).split())
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status(exc: BaseException) -> int | None:
    for candidate in (getattr(exc, "status_code", None), getattr(exc, "code", None),
                      getattr(getattr(exc, "response", None), "status_code", None)):
        if isinstance(candidate, int) and 100 <= candidate < 600:
            return candidate
    return None


def provider_failure(exc: BaseException) -> str | None:
    """'auth', 'not_found', 'retry' or 'fatal' for a provider failure; None for anything else."""
    for error in _causes(exc):
        if isinstance(error, (lc_errors.ModelAuthenticationError, lc_errors.ModelPermissionDeniedError)):
            return "auth"
        if isinstance(error, lc_errors.ModelNotFoundError):
            return "not_found"
        if isinstance(error, lc_errors.ModelError):
            return "retry" if error.is_retryable else "fatal"
        status = _status(error)
        if status in (401, 403):
            return "auth"
        if status == 404:
            return "not_found"
        if status in RETRYABLE_STATUS or (status is not None and status >= 500):
            return "retry"
        if isinstance(error, TRANSPORT_ERRORS):
            return "retry"
        if status is not None and status >= 400:
            return "fatal"
    return None


class ModelCaller:
    """One chat model plus the policies for asking it: provider backoff and answer repair."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        retries: int = 2,
        provider_retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.model = model
        self.retries = max(0, retries)
        self.provider_retries = max(0, provider_retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep

    def invoke(self, runnable: Runnable, messages: list[BaseMessage]) -> Any:
        """``runnable.invoke(messages)``, waiting and retrying on rate limits, 5xx, timeouts and lost connections."""
        attempt = 0
        while True:
            try:
                return runnable.invoke(messages)
            except Exception as exc:
                kind = provider_failure(exc)
                if kind is None:
                    raise
                if kind == "auth":
                    raise ModelConfigError(f"the provider rejected the credentials: {describe(exc)}") from None
                if kind == "not_found":
                    raise ModelConfigError(f"the provider does not know this model: {describe(exc)}") from None
                if kind == "fatal":
                    raise ProviderError(f"the provider refused the request: {describe(exc)}") from None
                if attempt >= self.provider_retries:
                    raise ProviderError(
                        f"the provider kept failing after {attempt + 1} attempts: {describe(exc)}"
                    ) from None
                self.sleep(min(self.max_backoff, self.backoff * 2**attempt))
                attempt += 1

    def ask(self, messages: list[BaseMessage]) -> AIMessage:
        """A plain answer from the model."""
        return self.invoke(self.model, messages)

    def structured(self, messages: list[BaseMessage], schema: type[Schema]) -> tuple[Schema, int]:
        """A validated ``schema`` object and the tokens spent.

        The first ``max(1, retries)`` attempts use the model's structured output,
        each retry naming the previous problem; if ``retries`` allows one more,
        the last attempt asks the plain model for JSON, for models whose tool
        calling or JSON mode is unreliable. Then ModelAnswerError.
        """
        tokens = 0
        problem = "no answer"
        turns = list(messages)
        try:
            runnable = self.model.with_structured_output(schema, include_raw=True)
        except NotImplementedError:
            runnable = None
            problem = "this model has no structured output"
        structured_attempts = max(1, self.retries) if runnable is not None else 0
        for _ in range(structured_attempts):
            try:
                out = self.invoke(runnable, turns)
            except (OutputParserException, ValidationError) as exc:
                problem = describe(exc)
            else:
                tokens += usage_tokens(out.get("raw"))
                if isinstance(out.get("parsed"), schema):
                    return out["parsed"], tokens
                problem = describe(out.get("parsing_error")) if out.get("parsing_error") else "the answer was empty"
            turns = list(messages) + [HumanMessage(render_prompt("structured_retry", problem=problem))]
        if structured_attempts and structured_attempts > self.retries:
            raise ModelAnswerError(f"the model's {schema.__name__} could not be read: {problem}")
        repair = render_prompt(
            "json_repair", problem=problem, schema=json.dumps(schema.model_json_schema(), separators=(",", ":"))
        )
        reply = self.ask(list(messages) + [HumanMessage(repair)])
        tokens += usage_tokens(reply)
        try:
            return schema.model_validate(extract_json_object(reply.text)), tokens
        except (ValueError, ValidationError) as exc:
            raise ModelAnswerError(
                f"the model's {schema.__name__} could not be read after {structured_attempts + 1} attempts: "
                f"{describe(exc)}"
            ) from None
