#!/usr/bin/env bash
# The Kardia demo on the embedded defaults (SmolLM2-135M-Instruct on this CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
K=.venv/bin/kardia
OUT=${KARDIA_DEMO_OUT:-outputs/demo}
mkdir -p "$OUT"

echo "== 1. The bundled sample data: validate and summarise"
$K data validate sample
$K data stats sample

echo "== 2. One dialogue with its assistant turns parsed into the four spans"
$K data show sample --index 0

# ---------------------------------------------------------------------------------------------------
# Training: SFT, then Rubric-ERL (GRPO), on this CPU (see docs/training.md).
echo "== Training 1. SFT of the embedded SmolLM2 on the sample's train personas (held-out personas kept apart)"
# (no end-of-training span evaluation here: step 3 measures the held-out format rate with `kardia eval`)
$K sft --config recipes/SmolLM2-135M-Instruct/sft/config_kardia.yaml --output_dir "$OUT/sft" --format_eval_examples 0

echo "== Training 2. GRPO for a few steps from the SFT model, rewards judged by the embedded judge"
$K grpo --config recipes/SmolLM2-135M-Instruct/grpo/config_kardia.yaml \
  --model_name_or_path "$OUT/sft" --output_dir "$OUT/grpo" --max_steps "${KARDIA_DEMO_GRPO_STEPS:-2}"

# === Evaluate base vs SFT vs GRPO on the held-out personas (written by `kardia sft` to $OUT/sft/heldout.jsonl)
echo "== Training 3. Evaluate base vs SFT vs GRPO on held-out personas"
EVAL=(--data "$OUT/sft/heldout.jsonl" --limit "${KARDIA_DEMO_EVAL_LIMIT:-12}" --max-new-tokens 128)
$K eval --model default "${EVAL[@]}" --out "$OUT/eval_base"
$K eval --model "$OUT/sft" "${EVAL[@]}" --out "$OUT/eval_sft"
$K eval --model "$OUT/grpo" "${EVAL[@]}" --out "$OUT/eval_grpo"
$K compare "$OUT/eval_base" "$OUT/eval_sft" "$OUT/eval_grpo" --out "$OUT/compare"
