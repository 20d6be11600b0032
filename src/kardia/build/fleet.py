"""`FleetChatModel`: one `ChatModel` over several servers, each request sent to the least-loaded one.

Every conversation of a batch is dispatched on its own to the member with the fewest requests in
flight (ties broken round-robin), so a slow or busy server receives less work and a fleet of equal
servers shares it evenly. Members are usually `OpenAIChatModel`s, one per ``--base-url``.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kardia.models.base import ChatModel, Conversation, Generation, GenerationConfig, ProgressCallback, gather_with_progress


class FleetChatModel(ChatModel):
    """Least-loaded dispatch over `members` (all serving the same model).

    `usage` counts the fleet's requests; `dispatched[i]` how many went to member i.
    """

    def __init__(self, members: Sequence[ChatModel]) -> None:
        super().__init__()
        if not members:
            raise ValueError("a fleet needs at least one model")
        self.members = list(members)
        self.name = self.members[0].name
        self.in_flight = [0] * len(self.members)
        self.dispatched = [0] * len(self.members)
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def _acquire(self) -> int:
        with self._lock:
            start = next(self._turn) % len(self.members)
            order = [(start + k) % len(self.members) for k in range(len(self.members))]
            chosen = min(order, key=lambda i: self.in_flight[i])
            self.in_flight[chosen] += 1
            self.dispatched[chosen] += 1
            return chosen

    def _release(self, index: int) -> None:
        with self._lock:
            self.in_flight[index] -= 1

    async def _one(self, conversation: Conversation, config: GenerationConfig | None) -> Generation:
        index = self._acquire()
        try:
            (generation,) = await self.members[index].agenerate([conversation], config)
        finally:
            self._release(index)
        self.usage.add(generation)
        return generation

    async def agenerate(
        self,
        conversations: Sequence[Conversation],
        config: GenerationConfig | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        return await gather_with_progress(conversations, lambda c: self._one(c, config), progress)

    def generate(
        self,
        conversations: Sequence[Conversation],
        config: GenerationConfig | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        """Blocking variant: runs `agenerate` on a fresh event loop in a worker thread."""
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self.agenerate(conversations, config, progress=progress)).result()

    @property
    def supports_logprobs(self) -> bool:  # type: ignore[override]
        return all(m.supports_logprobs for m in self.members)

    def next_token_logprobs(
        self,
        conversations: Sequence[Conversation],
        assistant_prefix: str,
        candidates: Sequence[str],
    ) -> list[dict[str, float] | None]:
        index = self._acquire()
        try:
            return self.members[index].next_token_logprobs(conversations, assistant_prefix, candidates)
        finally:
            self._release(index)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": type(self).__name__,
            "members": [m.describe() for m in self.members],
            "dispatched": list(self.dispatched),
        }

    def close(self) -> None:
        for member in self.members:
            member.close()
