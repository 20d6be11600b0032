"""Training configurations: TRL's `SFTConfig` and `GRPOConfig` extended with Kardia's fields.

A recipe (`recipes/<model>/<stage>/config_*.yaml`) sets fields of one of these classes and of TRL's
`ModelConfig`; `TrlParser` reads it, and command-line flags override it::

    kardia sft --config recipes/SmolLM2-135M-Instruct/sft/config_kardia.yaml --max_steps 20

>>> from trl import ModelConfig, TrlParser
>>> parser = TrlParser((SFTConfig, ModelConfig))
>>> sft, model = parser.parse_args_and_config(["--output_dir", "/tmp/x", "--use_cpu", "true"])
>>> sft.dataset, sft.eval_fraction
('sample', 0.2)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import trl

REWARD_NAMES: tuple[str, ...] = ("format", "emotion", "length", "rubric")
"""The rewards a GRPO recipe can name in `rewards` (see `kardia.rewards`)."""


@dataclass
class KardiaArguments:
    """Kardia's fields shared by SFT and GRPO: data, persona split, LoRA extras, held-out span evaluation."""

    dataset: str = field(
        default="sample",
        metadata={
            "help": "KardiaBench-format source: `sample` (bundled), a .jsonl/.json/.parquet file or directory, "
            "`ed:PATH` (EmpatheticDialogues), `esconv:PATH`, or a Hub dataset id (`Jhcircle/KardiaBench[:split]`)."
        },
    )
    dataset_limit: int | None = field(
        default=None, metadata={"help": "Use only the first N records of the source (None: all)."}
    )
    eval_fraction: float = field(
        default=0.2,
        metadata={
            "help": "Share of personas (anon_username; conversations for imported data) held out for evaluation. "
            "No persona is in both splits. 0 disables the held-out split."
        },
    )
    split_seed: int = field(default=0, metadata={"help": "Seed of the persona split (independent of `seed`)."})
    merge_lora: bool = field(
        default=False,
        metadata={"help": "With LoRA (`use_peft`), merge the adapter into the base weights when saving the final model."},
    )
    train_span_tokens: bool = field(
        default=True,
        metadata={
            "help": "With LoRA, also train the input and output embeddings (PEFT `modules_to_save`) so the eight "
            "span-tag rows learn. Full fine-tuning trains them anyway."
        },
    )
    format_eval_examples: int = field(
        default=16,
        metadata={
            "help": "Generate greedily on this many held-out examples at each evaluation and at the end of training, "
            "and log `eval/format_rate` and `eval/emotion_accuracy` (0 disables)."
        },
    )
    format_eval_on_start: bool = field(
        default=False, metadata={"help": "Also run the held-out span evaluation before the first step (the base model)."}
    )
    format_eval_max_new_tokens: int = field(
        default=192, metadata={"help": "Token budget of each held-out generation (a full four-span answer)."}
    )
    format_eval_batch_size: int = field(default=8, metadata={"help": "Prompts per generate call in the held-out evaluation."})


@dataclass
class SFTConfig(trl.SFTConfig, KardiaArguments):
    """TRL's `SFTConfig` plus Kardia's data, LoRA and held-out span evaluation fields."""

    dialogue_sequences: bool = field(
        default=True,
        metadata={
            "help": "Train on one sequence per dialogue with the loss on every assistant turn (the same targets as "
            "the turn-level pairs, each shared prefix read once: about 3x fewer tokens). False: one "
            "prompt-completion pair per assistant turn."
        },
    )


@dataclass
class GRPOConfig(trl.GRPOConfig, KardiaArguments):
    """TRL's `GRPOConfig` plus Kardia's rewards, judge and safety veto.

    `reward_weights` (TRL's field) gives one weight per entry of `rewards`, in order. The judge's
    criteria are also logged one by one (`rewards/rubric_<criterion>/mean`) as weight-0 rewards.
    """

    rewards: list[str] = field(
        default_factory=lambda: list(REWARD_NAMES),
        metadata={"help": f"Rewards to train on, any of {list(REWARD_NAMES)}; weights in `reward_weights`, same order."},
    )
    judge: str = field(
        default="default",
        metadata={
            "help": "Judge model for the rubric reward: `default` (embedded SmolLM2), a checkpoint, a Hub id, with "
            "`judge_base_url` a served model name, or `module:callable` returning a `kardia.judge.Judge`-like object."
        },
    )
    judge_base_url: str | None = field(
        default=None,
        metadata={"help": "OpenAI-compatible API root of the judge (e.g. a separate `vllm serve` at http://host:8001/v1)."},
    )
    judge_api_key_env: str | None = field(
        default=None, metadata={"help": "Environment variable holding the judge API key (never the key itself)."}
    )
    judge_mode: str = field(default="auto", metadata={"help": "Judge mode: auto, logprob or generate.", "choices": ["auto", "logprob", "generate"]})
    judge_cache: bool = field(default=True, metadata={"help": "Use the judge's persistent cache (identical replies are judged once)."})
    rubric: str | None = field(default=None, metadata={"help": "Rubric YAML file (None: the packaged Kardia rubric)."})
    rubric_weights: dict[str, float] | str | None = field(
        default=None,
        metadata={
            "help": "Criterion -> weight of the rubric reward, e.g. '{\"empathy\": 2, \"fluency\": 0.5}' "
            "(None: the rubric's own weights). The rubric reward is the weighted mean of the criteria in [0, 1]."
        },
    )
    safety_veto: bool = field(
        default=True,
        metadata={
            "help": "A reply whose judged `safety` is below `safety_threshold`, or that the crisis-safety layer's "
            "reply rules flag (encouraging self-harm or violence, method details), gets the minimum total reward."
        },
    )
    safety_threshold: float = field(
        default=0.5,
        metadata={
            "help": "Normalised safety score (0-1; 0.5 = level 3 of 5) below which the veto applies. 0 leaves the "
            "veto to the reply rules (for a judge whose safety scores do not separate safe from unsafe replies)."
        },
    )
    max_response_tokens: int = field(
        default=30, metadata={"help": "Response span budget of the length reward (30 tokens in Kardia-R1)."}
    )
    judge_max_failure_rate: float = field(
        default=0.2,
        metadata={"help": "Abort training when more than this share of judged replies fail (after `judge_min_items`)."},
    )
    judge_min_items: int = field(
        default=32, metadata={"help": "Judged replies needed before the failure-rate abort can trigger."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.rubric_weights, str):
            self.rubric_weights = json.loads(self.rubric_weights)
        unknown = [r for r in self.rewards if r not in REWARD_NAMES]
        if unknown:
            raise ValueError(f"rewards: unknown {unknown}; choose from {list(REWARD_NAMES)}")
        if not self.rewards:
            raise ValueError("rewards: name at least one of " + ", ".join(REWARD_NAMES))
        if self.reward_weights is not None and len(self.reward_weights) != len(self.rewards):
            raise ValueError(
                f"reward_weights has {len(self.reward_weights)} values but rewards names {len(self.rewards)} "
                f"({self.rewards}); give one weight per reward, in the same order"
            )
        if self.reward_weights is not None and any(w < 0 for w in self.reward_weights):
            raise ValueError(f"reward_weights must be non-negative (the minimum total reward is 0): {self.reward_weights}")

    def named_reward_weights(self) -> dict[str, float]:
        """Reward name -> weight, in `rewards` order."""
        weights = self.reward_weights or [1.0] * len(self.rewards)
        return dict(zip(self.rewards, (float(w) for w in weights)))


def config_summary(config: Any) -> dict[str, Any]:
    """The Kardia fields of a config (for the model card and logs)."""
    names = [f for f in KardiaArguments.__dataclass_fields__]
    if isinstance(config, GRPOConfig):
        names += [f for f in GRPOConfig.__dataclass_fields__ if f not in trl.GRPOConfig.__dataclass_fields__ and f not in names]
    return {name: getattr(config, name) for name in names}
