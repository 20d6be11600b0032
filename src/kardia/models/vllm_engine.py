"""vLLM offline engine backend (``vllm.LLM``) for fast GPU generation.

vLLM is optional (``pip install 'kardia[vllm]'``) and imported only when a `VLLMChatModel` is built.
Generation goes through ``LLM.chat`` (the model's chat template, system message folded for templates
without a system role); next-token scoring through ``LLM.generate`` on the rendered prompt plus the
assistant prefix with ``SamplingParams(max_tokens=1, logprobs=20)``.

Detokenisation keeps special tokens (``skip_special_tokens=False``) so span tags registered as special
tokens survive; end-of-turn and padding strings left at the end of a text are removed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kardia.models.base import ChatModel, Conversation, Generation, GenerationConfig, ProgressCallback
from kardia.prompts import fold_system, supports_system_role
from kardia.spans import END_OF_TURN_TOKENS

TOP_LOGPROBS = 20


def import_vllm() -> Any:
    """The `vllm` module, or an ImportError that says how to install it."""
    try:
        import vllm
    except ImportError as exc:
        raise ImportError(
            "The vLLM backend needs the `vllm` package (Linux with a CUDA GPU): pip install 'kardia[vllm]'. "
            "Without a GPU, use the default transformers backend (drop --backend vllm)."
        ) from exc
    return vllm


def strip_end_of_turn(text: str, extra: Sequence[str] = ()) -> str:
    """Remove end-of-turn / padding token strings, and whitespace, from the end of `text`."""
    tokens = tuple(t for t in (*END_OF_TURN_TOKENS, *extra) if t)
    text = text.rstrip()
    while end := next((t for t in tokens if text.endswith(t)), None):
        text = text[: -len(end)].rstrip()
    return text


class VLLMChatModel(ChatModel):
    """A model served in-process by vLLM.

    Args:
        model: checkpoint directory or hub id.
        dtype: ``auto`` (vLLM picks bf16/fp16) or a dtype name.
        tensor_parallel_size: GPUs to shard over.
        gpu_memory_utilization: fraction of GPU memory vLLM may take.
        max_model_len: context length cap (None: the model's).
        revision: hub revision.
        seed: engine seed.
        engine_kwargs: passed to ``vllm.LLM`` unchanged.
    """

    supports_logprobs = True

    def __init__(
        self,
        model: str | Path,
        *,
        dtype: str = "auto",
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        revision: str | None = None,
        seed: int = 0,
        **engine_kwargs: Any,
    ) -> None:
        super().__init__()
        vllm = import_vllm()
        self.name = str(model)
        self.llm = vllm.LLM(
            model=str(model),
            dtype=dtype,
            tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization,
            max_model_len=max_model_len,
            revision=revision,
            seed=seed,
            **engine_kwargs,
        )
        self.tokenizer = self.llm.get_tokenizer()
        self._system_role = supports_system_role(self.tokenizer)
        self._settings = {"dtype": dtype, "tensor_parallel_size": tensor_parallel_size, "revision": revision}

    def _messages(self, conversation: Conversation) -> list[dict[str, str]]:
        return list(conversation) if self._system_role else fold_system(conversation)

    def _sampling_params(self, config: GenerationConfig) -> Any:
        from vllm import SamplingParams

        return SamplingParams(
            max_tokens=config.max_new_tokens,
            min_tokens=config.min_new_tokens,
            temperature=config.temperature,
            top_p=config.top_p if not config.greedy else 1.0,
            seed=config.seed,
            stop=list(config.stop) or None,
            skip_special_tokens=False,
        )

    def generate(
        self,
        conversations: Sequence[Conversation],
        config: GenerationConfig | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        """One generation per conversation, in order; if the engine fails, every item carries the error."""
        config = config or GenerationConfig()
        try:
            outputs = self.llm.chat([self._messages(c) for c in conversations], self._sampling_params(config), use_tqdm=False)
        except Exception as exc:
            generations = [Generation(text="", error=f"{type(exc).__name__}: {exc}") for _ in conversations]
        else:
            pad = getattr(self.tokenizer, "pad_token", None) or ""
            generations = []
            for output in outputs:
                completion = output.outputs[0]
                generations.append(
                    Generation(
                        text=strip_end_of_turn(completion.text, (pad,)),
                        prompt_tokens=len(output.prompt_token_ids or ()),
                        completion_tokens=len(completion.token_ids),
                        finish_reason=completion.finish_reason,
                    )
                )
        for generation in generations:
            self.usage.add(generation)
        if progress:
            progress(len(conversations))
        return generations

    def next_token_logprobs(
        self,
        conversations: Sequence[Conversation],
        assistant_prefix: str,
        candidates: Sequence[str],
    ) -> list[dict[str, float] | None]:
        """Each candidate's first-token log-probability from vLLM's top-20; ``-inf`` outside the top 20,
        None for an item where no candidate is in the top 20."""
        from vllm import SamplingParams

        token_ids = {c: self.tokenizer.encode(c, add_special_tokens=False)[0] for c in candidates}
        # Token ids, not text: vLLM would add a second BOS to a rendered chat prompt.
        prompts = [
            {"prompt_token_ids": self.tokenizer.encode(
                self.tokenizer.apply_chat_template(self._messages(c), tokenize=False, add_generation_prompt=True)
                + assistant_prefix,
                add_special_tokens=False,
            )}
            for c in conversations
        ]
        params = SamplingParams(max_tokens=1, temperature=0.0, logprobs=TOP_LOGPROBS)
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        results: list[dict[str, float] | None] = []
        for output in outputs:
            steps = output.outputs[0].logprobs
            top = steps[0] if steps else {}
            scores = {c: (top[t].logprob if t in top else -math.inf) for c, t in token_ids.items()}
            results.append(scores if any(math.isfinite(v) for v in scores.values()) else None)
        return results

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "backend": type(self).__name__, **self._settings}
