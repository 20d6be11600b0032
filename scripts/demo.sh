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
