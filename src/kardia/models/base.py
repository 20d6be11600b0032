"""One interface for every chat model Kardia runs: local transformers, OpenAI-compatible HTTP, vLLM.

A `ChatModel` turns a batch of conversations (lists of ``{"role", "content"}`` messages) into
`Generation`s. Backends that can read next-token log-probabilities also implement
`next_token_logprobs`, which the rubric judge uses for its continuous `logprob` scores.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from threading import Lock
from typing import Any

Message = dict[str, str]
Conversation = Sequence[Message]
ProgressCallback = Callable[[int], None]
"""Called with the number of conversations just finished."""


async def gather_with_progress(
    conversations: Sequence[Conversation],
    one: Callable[[Conversation], Awaitable[Generation]],
    progress: ProgressCallback | None = None,
) -> list[Generation]:
    """Run `one` on every conversation concurrently, in order, reporting each finished item to `progress`."""

    async def tracked(conversation: Conversation) -> Generation:
        generation = await one(conversation)
        if progress:
            progress(1)
        return generation

    return list(await asyncio.gather(*(tracked(c) for c in conversations)))


@dataclass(frozen=True)
class GenerationConfig:
    """Decoding settings, shared by every backend.

    `temperature == 0` means greedy decoding. `seed` makes sampled decoding repeatable.
    `min_new_tokens` (local and vLLM backends; HTTP APIs ignore it) suppresses end-of-turn before
    that many tokens, e.g. to benchmark a fixed output length.
    """

    max_new_tokens: int = 256
    min_new_tokens: int = 0
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = 0
    stop: tuple[str, ...] = ()

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Generation:
    """One completion. `error` is set (and `text` empty) when the backend failed for this item."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    error: str | None = None


@dataclass
class Usage:
    """Token and request accounting, thread-safe."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: int = 0
    _lock: Lock = field(default_factory=Lock, repr=False, compare=False)

    def add(self, generation: Generation) -> None:
        with self._lock:
            self.requests += 1
            self.prompt_tokens += generation.prompt_tokens
            self.completion_tokens += generation.completion_tokens
            self.failures += generation.error is not None

    def to_dict(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "failures": self.failures,
        }


class ChatModel(ABC):
    """A chat model that generates, and optionally scores next tokens."""

    name: str
    supports_logprobs: bool = False

    def __init__(self) -> None:
        self.usage = Usage()

    @abstractmethod
    def generate(
        self,
        conversations: Sequence[Conversation],
        config: GenerationConfig | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        """One `Generation` per conversation, in order. Never raises for a single bad item."""

    async def agenerate(
        self,
        conversations: Sequence[Conversation],
        config: GenerationConfig | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        """Async variant; local backends run `generate` in a worker thread."""
        return await asyncio.to_thread(self.generate, conversations, config, progress=progress)

    def next_token_logprobs(
        self,
        conversations: Sequence[Conversation],
        assistant_prefix: str,
        candidates: Sequence[str],
    ) -> list[dict[str, float] | None]:
        """Log-probability of each candidate string as the next token after the prompt.

        The prompt is the conversation with the generation prompt, followed by `assistant_prefix`.
        Returns None for an item the backend could not score.
        """
        raise NotImplementedError(f"{type(self).__name__} does not expose next-token log-probabilities")

    def describe(self) -> dict[str, Any]:
        """What a report records about the model."""
        return {"name": self.name, "backend": type(self).__name__}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (HTTP clients, engines)."""
