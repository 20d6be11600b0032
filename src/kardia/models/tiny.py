"""A tiny randomly initialised model of the embedded model's architecture, for fast tests and smoke runs.

It shares the embedded model's tokenizer (so prompts, chat template and span tokens behave as in real
runs) but has two small layers, so a forward pass takes milliseconds on a CPU.
"""

from __future__ import annotations

from pathlib import Path


def build_tiny_model(out_dir: str | Path, *, tokenizer_dir: str | Path | None = None, seed: int = 0) -> Path:
    """Write a tiny Llama checkpoint with the SmolLM2 tokenizer into `out_dir` and return it."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from kardia.models.embedded import embedded_checkpoint

    out = Path(out_dir)
    source = Path(tokenizer_dir) if tokenizer_dir else embedded_checkpoint()
    tokenizer = AutoTokenizer.from_pretrained(source)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
