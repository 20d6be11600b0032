"""Local Hugging Face transformers backend: batched, left-padded generation on CPU or GPU.

Prompts are rendered with the tokenizer's chat template (system message folded into the first user
turn for templates without a system role, such as Gemma's). Batches are formed after sorting the
prompts by length, so each batch pads little; results come back in the caller's order.

Decoding keeps every token the model wrote except end-of-turn and padding: the released Kardia-R1
tokenizer registers the span tags as *special* tokens, so ``skip_special_tokens=True`` would delete them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kardia.models.base import ChatModel, Conversation, Generation, GenerationConfig, ProgressCallback
from kardia.prompts import fold_system, supports_system_role

EXTRA_END_OF_TURN = ("<|im_end|>", "<end_of_turn>", "<|eot_id|>")
"""End-of-turn tokens of the common chat templates (ChatML, Gemma, Llama 3), used when in the vocabulary."""


class ModelLoadError(RuntimeError):
    """A model or tokenizer could not be loaded; the message says what failed and how to fix it."""


def default_device() -> str:
    """``cuda`` when a GPU is visible, else ``mps`` on Apple silicon, else ``cpu``."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def default_dtype(device: str) -> Any:
    """float32 on CPU, bfloat16 on GPUs that support it, else float16."""
    import torch

    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.startswith("mps"):
        return torch.float16
    return torch.float32


def _as_dtype(dtype: Any) -> Any:
    import torch

    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    names = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
             "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    if str(dtype) not in names:
        raise ValueError(f"dtype must be one of {sorted(names)}, not {dtype!r}")
    return names[str(dtype)]


def load_pretrained(loader: Any, source: str | Path, *, revision: str | None = None, **kwargs: Any) -> Any:
    """`loader.from_pretrained(source)` with a clear `ModelLoadError` when a path or hub id cannot be read.

    A local directory is read directly. A hub id is read from the Hugging Face cache only when
    ``HF_HUB_OFFLINE=1``; otherwise it is downloaded (transformers falls back to the cache on network errors).
    """
    path = Path(str(source)).expanduser()
    if path.exists():
        try:
            return loader.from_pretrained(path, **kwargs)
        except Exception as exc:
            raise ModelLoadError(f"Could not load {loader.__name__} from the local directory {path}: {exc}") from exc
    text = str(source)
    if text.startswith((".", "/", "~")) or text.count("/") > 1 or text.endswith(os.sep):
        raise ModelLoadError(f"{text} is not an existing directory (and does not look like a hub id 'org/name').")
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    try:
        return loader.from_pretrained(text, revision=revision, local_files_only=offline, **kwargs)
    except Exception as exc:
        where = "the local Hugging Face cache (HF_HUB_OFFLINE is set)" if offline else "the Hugging Face Hub"
        raise ModelLoadError(
            f"Could not load {loader.__name__} for {text!r} from {where}: {type(exc).__name__}: {exc}\n"
            "How to fix: pass a local checkpoint directory instead; or, for a gated or private model, set "
            "HF_TOKEN or run `huggingface-cli login`; or, without network, download it first on a machine "
            f"with access (`huggingface-cli download {text}`) and copy the cache."
        ) from exc


def end_of_turn_ids(tokenizer: Any, generation_config: Any = None) -> list[int]:
    """Token ids that end an assistant turn: generation-config eos, tokenizer eos and known end-of-turn tokens."""
    ids: list[int] = []
    configured = getattr(generation_config, "eos_token_id", None)
    if configured is not None:
        ids.extend(configured if isinstance(configured, list | tuple) else [configured])
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    vocab = tokenizer.get_vocab()
    ids.extend(vocab[t] for t in EXTRA_END_OF_TURN if t in vocab)
    return list(dict.fromkeys(int(i) for i in ids))


class LocalChatModel(ChatModel):
    """A transformers causal LM with its tokenizer.

    Args:
        path_or_hub_id: a checkpoint directory or a Hugging Face Hub id.
        device: ``cpu``, ``cuda``, ``cuda:1``, ``mps``; default: the best available.
        dtype: torch dtype or its name; default: float32 on CPU, bf16 on GPUs that support it, else fp16.
        batch_size: prompts per forward pass.
        revision: hub revision (branch, tag or commit).

    Attributes ``model``, ``tokenizer`` and ``device`` are public (the judge and trainers use them).
    """

    supports_logprobs = True

    def __init__(
        self,
        path_or_hub_id: str | Path,
        *,
        device: str | None = None,
        dtype: Any = None,
        batch_size: int = 8,
        revision: str | None = None,
    ) -> None:
        super().__init__()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.name = str(path_or_hub_id)
        self.device = device or default_device()
        self.dtype = _as_dtype(dtype) or default_dtype(self.device)
        self.batch_size = batch_size
        self.revision = revision
        self.tokenizer = load_pretrained(AutoTokenizer, path_or_hub_id, revision=revision)
        self.model = load_pretrained(AutoModelForCausalLM, path_or_hub_id, revision=revision, dtype=self.dtype)
        self.model.to(self.device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.eos_token_ids = end_of_turn_ids(self.tokenizer, self.model.generation_config)
        self._system_role = supports_system_role(self.tokenizer)

    # -- prompts -----------------------------------------------------------------------------------

    def render_prompt(self, conversation: Conversation, assistant_prefix: str = "") -> str:
        """The conversation through the chat template, with the generation prompt and `assistant_prefix`."""
        messages = list(conversation) if self._system_role else fold_system(conversation)
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return text + assistant_prefix

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` without added special tokens (the chat template writes BOS where needed)."""
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def encode_prompt(self, conversation: Conversation, assistant_prefix: str = "") -> list[int]:
        """Token ids of the rendered prompt (see `render_prompt`)."""
        return self.encode(self.render_prompt(conversation, assistant_prefix))

    def left_pad(self, rows: Sequence[list[int]]) -> tuple[Any, Any]:
        """(input_ids, attention_mask) tensors on the model's device, padded on the left."""
        import torch

        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
            mask[i, width - len(row):] = 1
        return ids.to(self.device), mask.to(self.device)

    def length_batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Indices grouped into batches of similar length (longest first, so memory errors surface early)."""
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        return [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    # -- generation --------------------------------------------------------------------------------

    def generate(
        self,
        conversations: Sequence[Conversation],
        config: GenerationConfig | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Generation]:
        """One generation per conversation, in order; a failing item gets `error` set, the rest go on.

        Sampled decoding (temperature > 0) is seeded once per call with `config.seed`, so the same call
        (same prompts, batch size and seed) gives the same texts.
        """
        import torch

        config = config or GenerationConfig()
        results: list[Generation | None] = [None] * len(conversations)
        encoded: list[list[int] | None] = []
        for i, conversation in enumerate(conversations):
            try:
                encoded.append(self.encode_prompt(conversation))
            except Exception as exc:  # a malformed conversation fails alone
                encoded.append(None)
                results[i] = Generation(text="", error=f"could not render the prompt: {exc}")
        valid = [i for i, e in enumerate(encoded) if e is not None]
        if config.seed is not None and not config.greedy:
            torch.manual_seed(config.seed)
        for batch in self.length_batches([len(encoded[i]) for i in valid]):
            indices = [valid[b] for b in batch]
            for i, generation in zip(indices, self._generate_safely([encoded[i] for i in indices], config)):
                results[i] = generation
                self.usage.add(generation)
            if progress:
                progress(len(indices))
        if progress and len(valid) < len(conversations):
            progress(len(conversations) - len(valid))
        return [r for r in results if r is not None]

    def _generate_safely(self, rows: list[list[int]], config: GenerationConfig) -> list[Generation]:
        """Generate a batch; if the batch fails, retry its items one by one so only bad items fail."""
        try:
            return self._generate_batch(rows, config)
        except Exception as exc:
            if len(rows) == 1:
                return [Generation(text="", prompt_tokens=len(rows[0]), error=f"{type(exc).__name__}: {exc}")]
            return [g for row in rows for g in self._generate_safely([row], config)]

    def _generate_batch(self, rows: list[list[int]], config: GenerationConfig) -> list[Generation]:
        import torch

        ids, mask = self.left_pad(rows)
        kwargs: dict[str, Any] = {
            "max_new_tokens": config.max_new_tokens,
            "min_new_tokens": config.min_new_tokens or None,
            "do_sample": not config.greedy,
            "eos_token_id": self.eos_token_ids,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if not config.greedy:
            kwargs.update(temperature=config.temperature, top_p=config.top_p)
        else:  # silence "temperature is set but do_sample=False" from checkpoints' generation configs
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if config.stop:
            kwargs.update(stop_strings=list(config.stop), tokenizer=self.tokenizer)
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=mask, **kwargs)
        new = out[:, ids.shape[1]:].tolist()
        return [self.decode_completion(tokens, len(row), config) for tokens, row in zip(new, rows)]

    def decode_completion(self, tokens: list[int], prompt_tokens: int, config: GenerationConfig) -> Generation:
        """A `Generation` from generated ids: cut at the first end-of-turn id, drop padding, keep every
        other token (span tags included, even when registered as special tokens)."""
        eos = set(self.eos_token_ids)
        end = next((k for k, t in enumerate(tokens) if t in eos), None)
        kept = tokens if end is None else tokens[:end]
        pad = self.tokenizer.pad_token_id
        kept = [t for t in kept if t != pad]
        text = self.tokenizer.decode(kept, skip_special_tokens=False)
        finish = "stop" if end is not None else "length"
        for stop in config.stop:
            if stop in text:
                text, finish = text[: text.index(stop)], "stop"
        return Generation(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(tokens) if end is None else end + 1,
            finish_reason=finish,
        )

    # -- scoring -----------------------------------------------------------------------------------

    def candidate_token_ids(self, candidates: Sequence[str]) -> dict[str, int]:
        """Each candidate string's first token id."""
        ids = {}
        for candidate in candidates:
            tokens = self.encode(candidate)
            if not tokens:
                raise ValueError(f"candidate {candidate!r} encodes to no tokens")
            ids[candidate] = tokens[0]
        return ids

    def next_token_logprobs(
        self,
        conversations: Sequence[Conversation],
        assistant_prefix: str,
        candidates: Sequence[str],
    ) -> list[dict[str, float] | None]:
        """Log-softmax over the full vocabulary at the last position of prompt + `assistant_prefix`,
        read at each candidate's first token."""
        import torch

        token_ids = self.candidate_token_ids(candidates)
        rows = [self.encode_prompt(c, assistant_prefix) for c in conversations]
        results: list[dict[str, float] | None] = [None] * len(rows)
        for batch in self.length_batches([len(r) for r in rows]):
            ids, mask = self.left_pad([rows[i] for i in batch])
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.inference_mode():
                logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits[:, -1, :]
            logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
            for row, i in enumerate(batch):
                results[i] = {c: float(logprobs[row, t]) for c, t in token_ids.items()}
        return results

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": type(self).__name__,
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "batch_size": self.batch_size,
            "revision": self.revision,
            "parameters": sum(p.numel() for p in self.model.parameters()),
        }

    def __repr__(self) -> str:
        return f"LocalChatModel({self.name!r}, device={self.device!r}, dtype={self.describe()['dtype']!r})"
