"""The fast local logprob path: every shared prompt prefix is encoded once and its KV cache reused.

A judge prompt is rubric → context → candidate → criterion (see `kardia.judge.prompts`). Locally the
prompts of a batch form a tree, and each node is run through the model once:

1. the rubric prefix (chat-template head, intro, all criteria): once per `PrefixCacheScorer`;
2. each distinct context (profile, situation, dialogue): once, on top of a copy of the rubric cache;
3. the candidates of that context (a GRPO group): one batched forward, right-padded, on the context
   cache repeated per candidate;
4. the criterion endings: one batched forward of (candidates × criteria) rows on the candidate cache
   repeated per criterion (`DynamicCache.batch_repeat_interleave`), reading only the logits at each
   row's last real token (``logits_to_keep`` as a per-row index).

With grounding on (`kardia.judge.grounding`), step 3 also keeps the logits over the candidates' reply
tokens, and the candidates run once more on the cache of an empty context (encoded once per rubric):
the difference of the two reply log-probabilities is each reply's grounding.

Padding sits in the middle of rows, so every step passes an explicit 2-D attention mask over the whole
cache and contiguous per-row ``position_ids``; masks are built by transformers from the cache length
(causality by cache index), and padded keys are masked out. Tokens are the concatenation of each
segment's own encoding (the candidate's opening, reply and closing separately, so the reply's tokens are
known); `full_forward_probs` and `full_grounding` run the same token ids without any cache, and the tests
check both ways agree.

Models whose cache layers are not plain full-attention `DynamicLayer`s (sliding-window, linear
attention, hybrid) cannot share a padded prefix this way; for them every (candidate, criterion)
prompt is run whole, batched.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from kardia.judge.grounding import EMPTY_CONTEXT, logits_to_keep, reply_logprobs
from kardia.judge.prompts import ASSISTANT_PREFIX, JUDGE_SYSTEM, criterion_segment
from kardia.judge.rubric import SCORE_LEVELS, Rubric
from kardia.judge.scoring import CallStats, PreparedItem, Verdict, expected_score
from kardia.prompts import chat_messages_for

_PLACEHOLDER = "\x00KARDIA_JUDGE_USER\x00"


def template_frame(tokenizer: Any) -> tuple[str, str]:
    """(head, tail) of the chat template around the judge's user message, generation prompt included."""
    messages = chat_messages_for(tokenizer, [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": _PLACEHOLDER}])
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if text.count(_PLACEHOLDER) != 1:
        raise ValueError("the chat template does not render the judge's user message verbatim")
    head, tail = text.split(_PLACEHOLDER)
    return head, tail


def score_tokens(tokenizer: Any) -> tuple[str, dict[int, int]]:
    """The assistant prefix to append and each score's token id right after it.

    Tokenizers that merge a space with the digit (" 4" is one token) keep ``Score:`` and read the
    merged tokens; tokenizers that split digits off (SmolLM2: "Ġ", "4") get ``Score: `` and the digit.
    """

    def encode(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    for prefix, joiner in ((ASSISTANT_PREFIX, " "), (ASSISTANT_PREFIX + " ", "")):
        base = encode(prefix)
        ids: dict[int, int] = {}
        for s in SCORE_LEVELS:
            full = encode(prefix + joiner + str(s))
            if full[: len(base)] == base and len(full) == len(base) + 1:
                ids[s] = full[-1]
        if len(ids) == len(SCORE_LEVELS) and len(set(ids.values())) == len(SCORE_LEVELS):
            return prefix + joiner, ids
    raise ValueError("this tokenizer does not encode the scores 1-5 as single tokens after 'Score:'")


def supports_prefix_sharing(model: Any) -> bool:
    """Whether every cache layer of `model` is a plain full-attention `DynamicLayer`."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    try:
        cache = DynamicCache(config=model.config)
    except Exception:
        return False
    return not cache.layers or all(type(layer) is DynamicLayer for layer in cache.layers)


class PrefixCacheScorer:
    """Logprob-mode judge on a local transformers model, sharing KV caches along the prompt tree.

    Args:
        model: a causal LM (``AutoModelForCausalLM``), in eval mode.
        tokenizer: its tokenizer (with a chat template).
        rubric: the criteria to score.
        max_batch_tokens: most cached tokens (rows × cache length) in one criterion forward; bounds memory.
        grounding: also measure each reply's grounding (`kardia.judge.grounding`).
    """

    def __init__(self, model: Any, tokenizer: Any, rubric: Rubric, *, max_batch_tokens: int = 32768, grounding: bool = False) -> None:
        import torch

        self.model = model
        self.tokenizer = tokenizer
        self.rubric = rubric
        self.max_batch_tokens = max_batch_tokens
        self.grounding = grounding
        self.device = next(model.parameters()).device
        self.head, self.tail = template_frame(tokenizer)
        self.assistant_prefix, self.digit_ids = score_tokens(tokenizer)
        self.suffixes = [self.encode(criterion_segment(c) + self.tail + self.assistant_prefix) for c in rubric.criteria]
        self.shared = supports_prefix_sharing(model)
        self.stats = CallStats()
        self._rubric_key: str | None = None
        self._rubric_kv: list[tuple[Any, Any]] | None = None
        self._rubric_tokens: tuple[str | None, int] = (None, 0)
        self._empty_key: str | None = None
        self._empty_kv: list[tuple[Any, Any]] | None = None
        self._digits = torch.tensor([self.digit_ids[s] for s in SCORE_LEVELS], device=self.device)

    # -- tokens ------------------------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def context_length(self) -> int:
        """The model's context window in tokens."""
        config = self.model.config.get_text_config(decoder=True)
        window = getattr(config, "max_position_embeddings", None) or 4096
        limit = getattr(self.tokenizer, "model_max_length", None)
        return min(window, limit) if isinstance(limit, int) and 0 < limit < 10**7 else window

    def prompt_tokens(self, rubric_text: str, context: str, candidate: str) -> int:
        """Tokens of the longest criterion prompt for these segments."""
        if self._rubric_tokens[0] != rubric_text:
            self._rubric_tokens = (rubric_text, len(self.encode(self.head + rubric_text)))
        return self._rubric_tokens[1] + len(self.encode(context)) + len(self.encode(candidate)) + max(
            len(s) for s in self.suffixes
        )

    def candidate_ids(self, parts: tuple[str, str, str]) -> tuple[list[int], tuple[int, int]]:
        """The candidate segment's token ids and where its reply tokens lie in them, ``(start, end)``."""
        opening, reply, closing = (self.encode(p) for p in parts)
        return opening + reply + closing, (len(opening), len(opening) + len(reply))

    # -- scoring -----------------------------------------------------------------------------------

    def score(self, items: Sequence[PreparedItem]) -> list[Verdict]:
        """Raw expected scores (and grounding) for each item; a failing context group fails alone, with its reason."""
        verdicts: list[Verdict | None] = [None] * len(items)
        groups: dict[tuple[str, str], list[int]] = {}
        for k, item in enumerate(items):
            groups.setdefault((item.rubric_text, item.context), []).append(k)
        for (rubric_text, context), members in groups.items():
            started = time.perf_counter()
            try:
                scored = self._score_group(rubric_text, context, [items[k].candidate_parts for k in members])
                for k, (rows, grounding) in zip(members, scored):
                    verdicts[k] = Verdict(self._raw(rows), grounding=grounding)
            except Exception as exc:  # e.g. out of memory: this group fails, the batch goes on
                for k in members:
                    verdicts[k] = Verdict(None, f"local judge failed: {type(exc).__name__}: {exc}")
            self.stats.seconds += time.perf_counter() - started
        return [v for v in verdicts if v is not None]

    def _raw(self, rows: Any) -> dict[str, float]:
        raw = {}
        for criterion, logprobs in zip(self.rubric.criteria, rows.tolist()):
            raw[criterion.id] = expected_score(dict(zip(SCORE_LEVELS, logprobs)))
        return raw

    def _score_group(self, rubric_text: str, context: str, candidates: Sequence[tuple[str, str, str]]) -> list[tuple[Any, float | None]]:
        """Per candidate (given as its parts), a (criteria × 5) tensor of log-probabilities over the score
        tokens, and its grounding (None when not measured)."""
        if not self.shared:
            return self._score_unshared(rubric_text, context, candidates)
        import torch

        ctx_ids = self.encode(context)
        encoded = [self.candidate_ids(c) for c in candidates]
        n_crit = len(self.suffixes)
        with torch.inference_mode():
            base_kv = self._context_kv(rubric_text, ctx_ids)
            base_len = base_kv[0][0].shape[-2]
            empty_kv = self._empty_context_kv(rubric_text) if self.grounding else None
            out: list[tuple[Any, float | None]] = []
            longest = max(len(ids) for ids, _ in encoded) + max(len(s) for s in self.suffixes)
            per_candidate = n_crit * (base_len + longest)
            chunk = max(1, self.max_batch_tokens // per_candidate)
            for start in range(0, len(encoded), chunk):
                out.extend(self._score_candidates(base_kv, base_len, encoded[start:start + chunk], empty_kv))
        return out

    def _forward(self, **kwargs: Any) -> Any:
        self.stats.calls += 1
        return self.model(use_cache=True, return_dict=True, **kwargs)

    def _rubric_cache(self, rubric_text: str) -> list[tuple[Any, Any]]:
        """KV tensors of the chat head + rubric, computed once per rubric text."""
        import torch

        if self._rubric_key != rubric_text:
            ids = torch.tensor([self.encode(self.head + rubric_text)], device=self.device)
            out = self._forward(input_ids=ids, logits_to_keep=1)
            self._rubric_kv = [(k, v) for k, v, *_ in out.past_key_values]
            self._rubric_key = rubric_text
        assert self._rubric_kv is not None
        return self._rubric_kv

    def _cache(self, kv: Sequence[tuple[Any, Any]], repeats: int = 1) -> Any:
        """A fresh DynamicCache holding `kv` (repeated along the batch); the source tensors stay untouched."""
        from transformers import DynamicCache

        data = [(k.repeat_interleave(repeats, dim=0), v.repeat_interleave(repeats, dim=0)) if repeats > 1 else (k, v) for k, v in kv]
        return DynamicCache(data, config=self.model.config)

    def _empty_context_kv(self, rubric_text: str) -> list[tuple[Any, Any]]:
        """KV tensors of the chat head + rubric + the empty context (grounding's baseline), once per rubric."""
        if self._empty_key != rubric_text:
            self._empty_kv = self._context_kv(rubric_text, self.encode(EMPTY_CONTEXT))
            self._empty_key = rubric_text
        assert self._empty_kv is not None
        return self._empty_kv

    def _context_kv(self, rubric_text: str, ctx_ids: list[int]) -> list[tuple[Any, Any]]:
        import torch

        rubric_kv = self._rubric_cache(rubric_text)
        if not ctx_ids:
            return rubric_kv
        cache = self._cache(rubric_kv)
        prefix = rubric_kv[0][0].shape[-2]
        ids = torch.tensor([ctx_ids], device=self.device)
        positions = torch.arange(prefix, prefix + len(ctx_ids), device=self.device)[None]
        self._forward(input_ids=ids, past_key_values=cache, position_ids=positions, logits_to_keep=1)
        return [(k, v) for k, v, *_ in cache]

    def _right_pad(self, rows: Sequence[list[int]]) -> tuple[Any, Any]:
        import torch

        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        ids = torch.full((len(rows), width), pad, dtype=torch.long, device=self.device)
        mask = torch.zeros((len(rows), width), dtype=torch.long, device=self.device)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long, device=self.device)
            mask[i, : len(row)] = 1
        return ids, mask

    def _candidate_pass(self, cache: Any, prefix_len: int, ids: Any, cand_mask: Any, spans: list[tuple[int, int]]) -> tuple[Any, list[float] | None]:
        """Run right-padded candidates on `cache` (a prefix of `prefix_len` tokens, repeated per row).

        Returns the attention mask over prefix + candidates and, with grounding on, each row's reply log-probability.
        """
        import torch

        n_rows, width = ids.shape
        positions = prefix_len + torch.arange(width, device=self.device)[None].expand(n_rows, -1)
        mask = torch.cat([torch.ones((n_rows, prefix_len), dtype=torch.long, device=self.device), cand_mask], dim=1)
        keep = logits_to_keep(width, spans) if self.grounding else 1
        out = self._forward(input_ids=ids, attention_mask=mask, past_key_values=cache, position_ids=positions, logits_to_keep=keep)
        if not self.grounding:
            return mask, None
        return mask, reply_logprobs(out.logits, ids, spans)

    def _score_candidates(
        self,
        base_kv: Sequence[tuple[Any, Any]],
        base_len: int,
        encoded: list[tuple[list[int], tuple[int, int]]],
        empty_kv: Sequence[tuple[Any, Any]] | None,
    ) -> list[tuple[Any, float | None]]:
        import torch

        cand_ids = [ids for ids, _ in encoded]
        spans = [span for _, span in encoded]
        n_cand, n_crit = len(cand_ids), len(self.suffixes)
        cache = self._cache(base_kv, n_cand)
        cand_lens = torch.tensor([len(c) for c in cand_ids], device=self.device)
        ids, cand_mask = self._right_pad(cand_ids)
        mask, in_context = self._candidate_pass(cache, base_len, ids, cand_mask, spans)
        groundings: list[float | None] = [None] * n_cand
        if in_context is not None and empty_kv is not None:
            empty_len = empty_kv[0][0].shape[-2]
            _, alone = self._candidate_pass(self._cache(empty_kv, n_cand), empty_len, ids, cand_mask, spans)
            assert alone is not None
            groundings = [a - b for a, b in zip(in_context, alone)]

        cache.batch_repeat_interleave(n_crit)  # row = candidate * n_crit + criterion
        suffix_ids, suffix_mask = self._right_pad(self.suffixes)
        suffix_ids = suffix_ids.repeat(n_cand, 1)
        suffix_mask = suffix_mask.repeat(n_cand, 1)
        starts = base_len + cand_lens.repeat_interleave(n_crit)
        positions = starts[:, None] + torch.arange(suffix_ids.shape[1], device=self.device)[None]
        mask = torch.cat([mask.repeat_interleave(n_crit, dim=0), suffix_mask], dim=1)
        last = (suffix_mask.sum(dim=1) - 1)[:, None]
        out = self._forward(
            input_ids=suffix_ids, attention_mask=mask, past_key_values=cache, position_ids=positions, logits_to_keep=last
        )
        logprobs = torch.log_softmax(out.logits[:, 0, :].float(), dim=-1)[:, self._digits]
        return list(zip(logprobs.reshape(n_cand, n_crit, len(SCORE_LEVELS)).cpu(), groundings))

    # -- reference and fallback paths ----------------------------------------------------------------

    def full_prompt_ids(self, rubric_text: str, context: str, candidate: tuple[str, str, str]) -> list[list[int]]:
        """Each criterion's complete prompt: exactly the token ids the cached path runs."""
        base = self.encode(self.head + rubric_text) + self.encode(context) + self.candidate_ids(candidate)[0]
        return [base + suffix for suffix in self.suffixes]

    def full_forward_probs(
        self, rubric_text: str, context: str, candidates: Sequence[tuple[str, str, str]], batch_size: int = 8
    ) -> list[Any]:
        """Per candidate, (criteria × 5) score-token log-probabilities from whole prompts, without any cache."""
        import torch

        prompts = [p for c in candidates for p in self.full_prompt_ids(rubric_text, context, c)]
        rows = []
        with torch.inference_mode():
            for start in range(0, len(prompts), batch_size):
                batch = prompts[start:start + batch_size]
                ids, mask = self._right_pad(batch)
                last = (mask.sum(dim=1) - 1)[:, None]
                self.stats.calls += 1
                out = self.model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=last)
                rows.append(torch.log_softmax(out.logits[:, 0, :].float(), dim=-1)[:, self._digits].cpu())
        flat = torch.cat(rows)
        n_crit = len(self.suffixes)
        return list(flat.reshape(len(candidates), n_crit, len(SCORE_LEVELS)))

    def full_reply_logprobs(self, rubric_text: str, context: str, candidates: Sequence[tuple[str, str, str]], batch_size: int = 8) -> list[float]:
        """Per candidate, log p(reply tokens | chat head, rubric, `context`, opening) from whole prompts, without any cache."""
        import torch

        prefix = self.encode(self.head + rubric_text) + self.encode(context)
        totals: list[float] = []
        with torch.inference_mode():
            for start in range(0, len(candidates), batch_size):
                encoded = [self.candidate_ids(c) for c in candidates[start:start + batch_size]]
                ids, mask = self._right_pad([prefix + cand for cand, _ in encoded])
                spans = [(len(prefix) + a, len(prefix) + b) for _, (a, b) in encoded]
                self.stats.calls += 1
                out = self.model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=logits_to_keep(ids.shape[1], spans))
                totals.extend(reply_logprobs(out.logits, ids, spans))
        return totals

    def full_grounding(self, rubric_text: str, context: str, candidates: Sequence[tuple[str, str, str]]) -> list[float]:
        """Per candidate, its grounding from whole prompts, without any cache."""
        in_context = self.full_reply_logprobs(rubric_text, context, candidates)
        alone = self.full_reply_logprobs(rubric_text, EMPTY_CONTEXT, candidates)
        return [a - b for a, b in zip(in_context, alone)]

    def _score_unshared(self, rubric_text: str, context: str, candidates: Sequence[tuple[str, str, str]]) -> list[tuple[Any, float | None]]:
        probs = self.full_forward_probs(rubric_text, context, candidates)
        groundings: list[float | None] = [*self.full_grounding(rubric_text, context, candidates)] if self.grounding else [None] * len(candidates)
        return list(zip(probs, groundings))
