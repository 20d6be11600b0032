"""Dynamic request batching over a `ChatModel`: concurrent requests share one `generate` call.

Requests go into an asyncio queue. One worker takes the first waiting request, collects more for up to
`max_wait_ms` (or until `max_batch_size`), groups them by decoding settings and runs one model call per
group in a single worker thread (so the model is never used by two threads at once). While a batch
runs, new requests queue up and form the next batch, so under load batches fill without waiting.

Next-token log-probability requests (``max_tokens=1`` with ``logprobs``) are batched the same way and
read the top-k of the full-vocabulary log-softmax (`top_next_tokens`); only backends that expose a
transformers ``model`` and ``tokenizer`` (`LocalChatModel`) support them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from kardia.models.base import ChatModel, Conversation, Generation, GenerationConfig

TokenLogprob = tuple[str, float]
"""A token's text and its log-probability."""


class LogprobsUnsupported(RuntimeError):
    """The backend cannot return next-token log-probabilities."""


@dataclass
class TopTokens:
    """The next token (greedy) and the `k` most likely next tokens with their log-probabilities."""

    chosen: TokenLogprob
    top: list[TokenLogprob]
    prompt_tokens: int


def supports_top_tokens(model: ChatModel) -> bool:
    """Whether `top_next_tokens` can score with this model (a transformers model and tokenizer)."""
    return hasattr(model, "model") and hasattr(model, "tokenizer") and hasattr(model, "render_prompt")


def top_next_tokens(model: Any, conversations: Sequence[Conversation], prefixes: Sequence[str], k: int) -> list[TopTokens]:
    """The top-`k` next tokens after each conversation's generation prompt plus its assistant prefix.

    One left-padded forward pass for the batch; log-softmax over the full vocabulary at the last position.
    """
    import torch

    if not supports_top_tokens(model):
        raise LogprobsUnsupported(f"{type(model).__name__} does not expose next-token log-probabilities")
    tokenizer = model.tokenizer
    prompts = [model.render_prompt(c, p) for c, p in zip(conversations, prefixes)]
    encoded = tokenizer(prompts, add_special_tokens=False, padding=True, return_tensors="pt")
    ids = encoded["input_ids"].to(model.device)
    mask = encoded["attention_mask"].to(model.device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode():
        logits = model.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits[:, -1, :]
    logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
    values, indices = logprobs.topk(max(k, 1), dim=-1)
    results = []
    for row in range(len(prompts)):
        top = [(tokenizer.decode([int(t)]), float(v)) for v, t in zip(values[row], indices[row])]
        results.append(TopTokens(chosen=top[0], top=top[:k], prompt_tokens=int(mask[row].sum())))
    return results


@dataclass
class _Job:
    key: Hashable
    conversation: Conversation
    future: asyncio.Future
    config: GenerationConfig | None = None
    prefix: str = ""
    top_k: int = 0


@dataclass
class EngineStats:
    """What the engine has run: model calls, requests served, the largest batch."""

    model_calls: int = 0
    requests: int = 0
    largest_batch: int = 0


class BatchingEngine:
    """Collects concurrent requests into batched model calls.

    Args:
        model: the chat model (its own ``batch_size`` splits a large call into forward passes).
        max_batch_size: most requests in one model call.
        max_wait_ms: how long the first request of an idle engine waits for company.

    Use `start()` inside the serving event loop and `stop()` on shutdown.
    """

    def __init__(self, model: ChatModel, *, max_batch_size: int = 8, max_wait_ms: float = 5.0) -> None:
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, not {max_batch_size}")
        self.model = model
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self.stats = EngineStats()
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kardia-model")

    async def start(self) -> None:
        """Start the batching worker on the running loop."""
        if self._worker is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run(), name="kardia-batcher")

    async def stop(self) -> None:
        """Stop the worker; requests still queued fail with `RuntimeError`."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None
        while self._queue is not None and not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(RuntimeError("the server is shutting down"))
        self._executor.shutdown(wait=False)

    @property
    def supports_logprobs(self) -> bool:
        return supports_top_tokens(self.model)

    async def generate(self, conversation: Conversation, config: GenerationConfig) -> Generation:
        """One completion, batched with other requests that use the same decoding settings."""
        if config.greedy:  # the seed does not change greedy output: let all greedy requests share batches
            config = replace(config, seed=None)
        return await self._submit(_Job(key=("generate", config), conversation=conversation, future=self._future(), config=config))

    async def top_tokens(self, conversation: Conversation, prefix: str, k: int) -> TopTokens:
        """The next-token top-`k` after the conversation (and an assistant prefix), batched."""
        if not self.supports_logprobs:
            raise LogprobsUnsupported(f"{type(self.model).__name__} does not expose next-token log-probabilities")
        return await self._submit(_Job(key=("top", k), conversation=conversation, future=self._future(), prefix=prefix, top_k=k))

    def _future(self) -> asyncio.Future:
        return asyncio.get_running_loop().create_future()

    async def _submit(self, job: _Job) -> Any:
        if self._queue is None:
            raise RuntimeError("the engine is not started (call `await engine.start()` first)")
        await self._queue.put(job)
        return await job.future

    async def _collect(self) -> list[_Job]:
        assert self._queue is not None
        batch = [await self._queue.get()]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch_size:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            groups: dict[Hashable, list[_Job]] = {}
            for job in batch:
                if not job.future.done():  # a cancelled request (client gone) is not computed
                    groups.setdefault(job.key, []).append(job)
            for key, jobs in groups.items():
                try:
                    results = await loop.run_in_executor(self._executor, self._call, key, jobs)
                except Exception as exc:  # noqa: BLE001 - handed to each waiting request
                    for job in jobs:
                        if not job.future.done():
                            job.future.set_exception(exc)
                    continue
                self.stats.model_calls += 1
                self.stats.requests += len(jobs)
                self.stats.largest_batch = max(self.stats.largest_batch, len(jobs))
                for job, result in zip(jobs, results):
                    if not job.future.done():
                        job.future.set_result(result)

    def _call(self, key: Hashable, jobs: list[_Job]) -> list[Any]:
        conversations = [job.conversation for job in jobs]
        if key[0] == "generate":
            return self.model.generate(conversations, jobs[0].config)
        return top_next_tokens(self.model, conversations, [job.prefix for job in jobs], jobs[0].top_k)
