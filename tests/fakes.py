"""A scripted LangChain chat model for tests: no network, replies in order, records what it saw.

``with_structured_output`` on a plain ``BaseChatModel`` binds the schema as a
tool and parses the first tool call named after it, so a structured answer is
scripted as an AIMessage whose tool call carries the object's fields.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, Field


class ScriptedChatModel(GenericFakeChatModel):
    """Answers each call with the next scripted reply; an exception in the script is raised instead."""

    script: list[Any] = Field(default_factory=list)
    received: list[list[BaseMessage]] = Field(default_factory=list)

    def __init__(self, replies: list[AIMessage | str | BaseException], **kwargs: Any) -> None:
        super().__init__(messages=iter(()), script=list(replies), **kwargs)

    def bind_tools(self, tools: Any, **kwargs: Any) -> "ScriptedChatModel":
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self.received.append(list(messages))
        if not self.script:
            raise AssertionError(f"ScriptedChatModel ran out of replies after {len(self.received) - 1} calls")
        reply = self.script.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        message = AIMessage(content=reply) if isinstance(reply, str) else reply
        return ChatResult(generations=[ChatGeneration(message=message)])

    @property
    def calls(self) -> int:
        return len(self.received)


def _usage(tokens: tuple[int, int] | None) -> dict | None:
    if tokens is None:
        return None
    prompt, completion = tokens
    return {"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion}


def structured_reply(
    obj: BaseModel | dict, *, name: str | None = None, tokens: tuple[int, int] | None = None
) -> AIMessage:
    """A tool-call answer carrying ``obj``, as ``with_structured_output(type(obj))`` expects.

    Pass a dict with ``name`` to script an answer that does not validate.
    """
    if isinstance(obj, BaseModel):
        name, args = name or type(obj).__name__, obj.model_dump()
    else:
        args = obj
    if name is None:
        raise ValueError("a dict reply needs the schema name")
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": "call_0"}], usage_metadata=_usage(tokens)
    )


def code_reply(code: str, *, prose: str = "Here is the program.", tokens: tuple[int, int] | None = None) -> AIMessage:
    """A coder answer with ``code`` in a fenced python block."""
    return AIMessage(content=f"{prose}\n\n```python\n{code.strip()}\n```\n", usage_metadata=_usage(tokens))
