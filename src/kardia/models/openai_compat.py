"""OpenAI-compatible HTTP backend (OpenAI, vLLM / SGLang / llama.cpp servers, gateways).

Requests run concurrently under a semaphore. The retry policy is Kardia's own (the client's built-in
retries are off), so it is explicit and tested: 429, 5xx, timeouts and connection errors are retried
with exponential backoff and jitter (honouring ``Retry-After`` up to the backoff cap); any other 4xx
fails at once. A failed item becomes ``Generation(text="", error=...)``; a batch never raises.

The API key is read from the environment variable named by ``api_key_env`` (``EMPTY`` when unset, as
local servers expect) and is handed to the client only: it never appears in reprs, logs or `describe()`.

Next-token log-probabilities use ``logprobs=True, top_logprobs=20, max_tokens=1``. An assistant prefix
is sent as a final, partial assistant message with
``extra_body={"continue_final_message": True, "add_generation_prompt": False}``, which vLLM's server
understands (the model continues that message instead of starting a new turn). Servers without this
extension may start a new assistant turn instead; OpenAI's API does not return prompt continuations.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from kardia.models.base import ChatModel, Conversation, Generation, GenerationConfig, ProgressCallback, gather_with_progress

T = TypeVar("T")
TOP_LOGPROBS = 20
CONTINUE_FINAL_MESSAGE = {"continue_final_message": True, "add_generation_prompt": False}
"""vLLM's chat-completions extension for continuing a partial assistant message."""


class _RetryableError(Exception):
    """Wraps an error worth retrying, with the server's Retry-After (seconds) when it gave one."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _classify(exc: Exception) -> tuple[bool, str, float | None]:
    """(retryable, reason, retry_after) for an exception raised by the openai client."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return True, "timeout", None
    if isinstance(exc, openai.APIConnectionError):
        return True, f"connection error: {exc}", None
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retry_after = None
        header = exc.response.headers.get("retry-after") if exc.response is not None else None
        if header:
            try:
                retry_after = float(header)
            except ValueError:
                retry_after = None
        reason = f"HTTP {status}: {exc.message}"
        return status == 429 or status >= 500, reason, retry_after
    return False, f"{type(exc).__name__}: {exc}", None


class _LoopThread:
    """A private event loop in a daemon thread, so sync calls work inside a running loop too."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="kardia-openai", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


class OpenAIChatModel(ChatModel):
    """Chat completions over HTTP through the official ``openai`` client.

    Args:
        model: the served model name.
        base_url: the API root, e.g. ``http://localhost:8000/v1``.
        api_key_env: name of the environment variable holding the key.
        concurrency: most requests in flight at once.
        timeout: seconds per request attempt.
        max_retries: retries after the first attempt (for retryable errors only).
        backoff: base delay in seconds; attempt k waits ``backoff * 2**k`` (capped) plus up to 50% jitter.
        max_backoff: cap on one wait.
        logprobs: whether the server returns log-probabilities; None asks it once, on first use.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout: float = 60,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        logprobs: bool | None = None,
    ) -> None:
        super().__init__()
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.name = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._logprobs_flag = logprobs
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
        self._runner: _LoopThread | None = None
        self._runner_lock = threading.Lock()

    # -- plumbing ----------------------------------------------------------------------------------

    def _client(self) -> Any:
        """The AsyncOpenAI client of the running loop (httpx connection pools belong to one loop)."""
        from openai import AsyncOpenAI

        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients[loop] = AsyncOpenAI(
                api_key=os.environ.get(self.api_key_env) or "EMPTY",
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=0,
            )
            self._semaphores[loop] = asyncio.Semaphore(self.concurrency)
        return self._clients[loop]

    def _run_sync(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._runner_lock:
            if self._runner is None:
                self._runner = _LoopThread()
        return self._runner.run(coro)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay = min(self.max_backoff, self.backoff * 2**attempt)
        if retry_after is not None:
            delay = min(self.max_backoff, max(delay, retry_after))
        return delay * (1 + random.random() / 2)

    async def _with_retries(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run `call` under the concurrency limit, retrying retryable errors. Raises the last error."""
        self._client()
        semaphore = self._semaphores[asyncio.get_running_loop()]
        attempt = 0
        while True:
            async with semaphore:
                try:
                    return await call()
                except Exception as exc:
                    retryable, reason, retry_after = _classify(exc)
                    if not retryable or attempt >= self.max_retries:
                        raise RuntimeError(reason if attempt == 0 else f"{reason} (after {attempt + 1} attempts)") from exc
            await asyncio.sleep(self._delay(attempt, retry_after))  # outside the semaphore
            attempt += 1

    # -- generation --------------------------------------------------------------------------------

    def _request(self, config: GenerationConfig) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.name, "max_tokens": config.max_new_tokens, "temperature": config.temperature}
        if not config.greedy:
            request["top_p"] = config.top_p
        if config.seed is not None:
            request["seed"] = config.seed
        if config.stop:
            request["stop"] = list(config.stop)
        return request

    async def _one(self, conversation: Conversation, request: dict[str, Any]) -> Generation:
        client = self._client()
        try:
            response = await self._with_retries(
                lambda: client.chat.completions.create(messages=list(conversation), **request)
            )
        except RuntimeError as exc:
            return Generation(text="", error=str(exc))
        usage = response.usage
        choice = response.choices[0] if response.choices else None
        if choice is None:
            return Generation(text="", error="the server returned no choices")
        return Generation(
            text=choice.message.content or "",
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            finish_reason=choice.finish_reason,
        )

    async def agenerate(
        self,
        conversations: Sequence[Conversation],
        config: GenerationConfig | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        request = self._request(config or GenerationConfig())

        async def counted(conversation: Conversation) -> Generation:
            generation = await self._one(conversation, request)
            self.usage.add(generation)
            return generation

        return await gather_with_progress(conversations, counted, progress)

    def generate(
        self,
        conversations: Sequence[Conversation],
        config: GenerationConfig | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        """Blocking wrapper over `agenerate` (runs on a private loop thread; safe inside a running loop)."""
        return self._run_sync(self.agenerate(conversations, config, progress=progress))

    # -- scoring -----------------------------------------------------------------------------------

    @property
    def supports_logprobs(self) -> bool:  # type: ignore[override]
        """The constructor flag, or (once) whether a one-token probe request returns log-probabilities."""
        if self._logprobs_flag is None:
            probe = self._run_sync(self._top_logprobs([{"role": "user", "content": "Say yes."}], ""))
            self._logprobs_flag = probe is not None
        return self._logprobs_flag

    async def _top_logprobs(self, conversation: Conversation, assistant_prefix: str) -> list[tuple[str, float]] | None:
        client = self._client()
        messages = list(conversation)
        extra: dict[str, Any] = {}
        if assistant_prefix:
            messages.append({"role": "assistant", "content": assistant_prefix})
            extra["extra_body"] = CONTINUE_FINAL_MESSAGE
        try:
            response = await self._with_retries(
                lambda: client.chat.completions.create(
                    model=self.name, messages=messages, max_tokens=1, temperature=0,
                    logprobs=True, top_logprobs=TOP_LOGPROBS, **extra,
                )
            )
        except RuntimeError:
            self.usage.add(Generation(text="", error="logprobs request failed"))
            return None
        usage = response.usage
        self.usage.add(Generation(text="", prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                                  completion_tokens=getattr(usage, "completion_tokens", 0) or 0))
        choice = response.choices[0] if response.choices else None
        content = choice.logprobs.content if choice is not None and choice.logprobs is not None else None
        if not content or not content[0].top_logprobs:
            return None
        return [(entry.token, entry.logprob) for entry in content[0].top_logprobs]

    async def anext_token_logprobs(
        self,
        conversations: Sequence[Conversation],
        assistant_prefix: str,
        candidates: Sequence[str],
    ) -> list[dict[str, float] | None]:
        tops = await asyncio.gather(*(self._top_logprobs(c, assistant_prefix) for c in conversations))
        return [None if top is None else match_candidates(top, candidates) for top in tops]

    def next_token_logprobs(
        self,
        conversations: Sequence[Conversation],
        assistant_prefix: str,
        candidates: Sequence[str],
    ) -> list[dict[str, float] | None]:
        """Per conversation, each candidate's log-probability from the server's top-20 next tokens.

        A candidate matches the returned tokens equal to it after stripping whitespace ("5" and " 5"),
        their probabilities summed. A candidate outside the top 20 gets ``-inf``; an item whose request
        failed, that came back without log-probabilities, or where no candidate is in the top 20 is None.
        """
        return self._run_sync(self.anext_token_logprobs(conversations, assistant_prefix, candidates))

    # -- reporting ---------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": type(self).__name__,
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
            "concurrency": self.concurrency,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
        }

    def __repr__(self) -> str:
        return f"OpenAIChatModel(model={self.name!r}, base_url={self.base_url!r}, api_key_env={self.api_key_env!r})"

    def close(self) -> None:
        """Close the HTTP clients of the private loop and stop its thread."""
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        client = self._clients.pop(runner.loop, None)
        if client is not None:
            runner.run(client.close())
        runner.stop()


def match_candidates(top: Sequence[tuple[str, float]], candidates: Sequence[str]) -> dict[str, float] | None:
    """Candidates' log-probabilities from (token, logprob) pairs; whitespace variants are summed.

    >>> match_candidates([(" 5", -0.1), ("5", -3.0), ("4", -2.5)], ["4", "5", "1"])["1"]
    -inf
    """
    scores: dict[str, float] = {}
    for candidate in candidates:
        hits = [lp for token, lp in top if token.strip() == candidate.strip()]
        scores[candidate] = _logsumexp(hits) if hits else -math.inf
    return scores if any(math.isfinite(v) for v in scores.values()) else None


def _logsumexp(values: Sequence[float]) -> float:
    peak = max(values)
    return peak + math.log(sum(math.exp(v - peak) for v in values))
