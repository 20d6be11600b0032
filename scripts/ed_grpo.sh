#!/usr/bin/env bash
# GRPO with the format and emotion rewards on prompts built from EmpatheticDialogues (real human data),
# split by conversation into train / dev, starting from the SFT checkpoint. Prints format rate and emotion
# accuracy on the dev conversations before (step 0) and after training.
#
#   scripts/ed_grpo.sh [SFT_CHECKPOINT] [OUT]         (defaults: outputs/demo/sft, outputs/ed_grpo)
#   ED_STEPS=30 ED_RECORDS=400 ED_DEV=48 scripts/ed_grpo.sh     (30 steps: about 25 min on 2 CPU cores)
#
# Background job, not CI: a few minutes per 10 steps on a 2-core CPU; use a GPU recipe for real runs.
set -euo pipefail
cd "$(dirname "$0")/.."
K=.venv/bin/kardia
SFT=${1:-outputs/demo/sft}
OUT=${2:-outputs/ed_grpo}
ED=${ED_CSV:-../shared/data/empatheticdialogues/valid.csv}
[ -f "$ED" ] || { echo "EmpatheticDialogues not found at $ED (set ED_CSV)"; exit 1; }
[ -d "$SFT" ] || { echo "SFT checkpoint $SFT not found: run scripts/demo.sh (or kardia sft) first"; exit 1; }

$K grpo --config recipes/SmolLM2-135M-Instruct/grpo/config_kardia.yaml \
  --model_name_or_path "$SFT" --output_dir "$OUT" \
  --dataset "ed:$ED" --dataset_limit "${ED_RECORDS:-300}" --eval_fraction 0.2 --split_seed 0 \
  --rewards format emotion --reward_weights 1.0 2.0 \
  --format_eval_examples "${ED_DEV:-32}" --format_eval_on_start true --format_eval_batch_size 8 \
  --max_steps "${ED_STEPS:-20}" --save_steps 10 --learning_rate 5.0e-6 --log_completions false

.venv/bin/python - "$OUT" <<'PY'
import json, sys
card = json.load(open(f"{sys.argv[1]}/kardia_training.json"))
print("dev conversations (held out):")
for e in card["evaluation"]:
    print(f"  {e['when']:>5} step {e['step']:>3}: format rate {e['format_rate']:.3f}, "
          f"emotion accuracy {e['emotion_accuracy'] if e['emotion_accuracy'] is None else round(e['emotion_accuracy'], 3)} "
          f"({e['examples']} examples)")
PY
