"""Add the eight span tags to a tokenizer (and model) before training.

The tags become *ordinary* added tokens, not special tokens: TRL's GRPO trainer decodes completions
with ``skip_special_tokens=True``, which would delete special span tags before the rewards see them.
They are added unnormalised and without stripping, so ``<|emotion_begin|>sad<|emotion_end|>``
round-trips through encode → decode unchanged.

New embedding rows start at the mean embedding of the tag's words ("understanding begin"), which
gives the model a useful starting point instead of a random vector.
"""

from __future__ import annotations

from typing import Any

from kardia.spans import SPAN_TOKENS


def tag_words(tag: str) -> str:
    """The words a tag stands for: ``<|understanding_begin|>`` → ``understanding begin``."""
    return tag.strip("<|>").replace("_", " ")


def prepare_for_spans(tokenizer: Any, model: Any = None) -> list[int]:
    """Make sure the span tags are single tokens, and size and initialise the model's embeddings.

    Idempotent: tags already in the vocabulary are not added again, and an embedding row is only
    initialised when its tag was added by this call or its row was created by this call's resize
    (models such as Qwen carry spare rows beyond the tokenizer's length). Returns the ids of the eight tags, in `SPAN_TOKENS` order.
    """
    from tokenizers import AddedToken

    vocab = tokenizer.get_vocab()
    missing = [t for t in SPAN_TOKENS if t not in vocab]
    if missing:
        tokenizer.add_tokens(
            [AddedToken(t, single_word=False, lstrip=False, rstrip=False, normalized=False, special=False) for t in missing],
            special_tokens=False,
        )
    tag_ids = tokenizer.convert_tokens_to_ids(list(SPAN_TOKENS))
    if model is not None:
        _resize_and_initialise(tokenizer, model, tag_ids, added=set(missing))
    return tag_ids


def _resize_and_initialise(tokenizer: Any, model: Any, tag_ids: list[int], added: set[str]) -> None:
    import torch

    old_rows = model.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > old_rows:
        model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    new_tags = [(tag, i) for tag, i in zip(SPAN_TOKENS, tag_ids) if tag in added or i >= old_rows]
    if not new_tags:
        return
    inputs = model.get_input_embeddings().weight
    output_layer = model.get_output_embeddings()
    outputs = output_layer.weight if output_layer is not None and output_layer.weight is not inputs else None
    with torch.no_grad():
        for tag, i in new_tags:
            words = tokenizer(tag_words(tag), add_special_tokens=False)["input_ids"]
            inputs[i] = inputs[words].mean(dim=0)
            if outputs is not None:
                outputs[i] = outputs[words].mean(dim=0)
