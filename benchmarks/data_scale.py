"""KardiaBench-scale data benchmark: load + validate + expand 22,080 dialogues into turn-level examples.

Writes a synthetic file with the paper's shape (22,080 dialogues, 8 assistant turns each, 671 personas),
then measures, each in a fresh subprocess (so peak memory is its own):
  - kardia: `load_examples(path)` (streaming read, pydantic validation, strict span checks, expansion
    that shares message objects between examples);
  - naive: read the whole file, `json.loads` every line into a list, validate, and deep-copy the prompt
    messages of every example.

    .venv/bin/python benchmarks/data_scale.py [--dialogues 22080] [--turns 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kardia.emotions import EMOTIONS
from kardia.prompts import system_prompt
from kardia.spans import render


def write_synthetic(path: Path, dialogues: int, turns: int, personas: int = 671) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for d in range(dialogues):
            p = d % personas
            profile = f"MBTI: INFP\nAbout: persona {p}, a teacher who likes hiking.\nSignature: \"Breathe.\"\nRecent Activities: posted {p} photos."
            situation = f"Situation {d}: a stressful week at work with a deadline."
            emotion = EMOTIONS[d % 32]
            messages = [{"role": "system", "content": system_prompt(profile, situation)}]
            for t in range(turns):
                messages.append({"role": "user", "content": f"Turn {t}: I keep thinking about the deadline and cannot sleep well at night."})
                messages.append({"role": "assistant", "content": render(
                    "The user is worried about a deadline and losing sleep.",
                    "Validating the stress and normalising it builds trust before any suggestion.",
                    emotion, "That sounds exhausting; it makes sense you feel this way with so much on your plate.")})
            record = {"person": profile, "mbti": "INFP", "emotion": emotion, "situation": situation,
                      "anon_username": f"user_{p:04d}", "messages": messages}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def run_kardia(path: str) -> int:
    from kardia.data.sources import load_examples

    return len(load_examples(path))


def run_naive(path: str) -> int:
    import copy

    from kardia.data.records import check_record
    from kardia.spans import parse

    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
    examples = []
    for row in rows:
        record, issues = check_record(row)
        if any(i.severity == "error" for i in issues):
            raise ValueError(issues)
        for i, m in enumerate(record.messages):
            if m["role"] == "assistant":
                examples.append({"messages": copy.deepcopy(record.messages[:i]), "target": m["content"],
                                 "emotion": parse(m["content"]).emotion})
    return len(examples)


def measure(way: str, path: Path) -> dict:
    code = (
        "import json, resource, sys, time\n"
        "sys.path.insert(0, %r)\n"
        "from data_scale import run_kardia, run_naive\n"
        "t = time.perf_counter(); n = run_%s(%r); dt = time.perf_counter() - t\n"
        "print(json.dumps({'examples': n, 'seconds': dt, 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    ) % (str(Path(__file__).parent), way, str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialogues", type=int, default=22080)
    parser.add_argument("--turns", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kardiabench_synthetic.jsonl"
        t = time.perf_counter()
        write_synthetic(path, args.dialogues, args.turns)
        print(f"wrote {args.dialogues} dialogues × {args.turns} turns ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s")
        results = {way: measure(way, path) for way in ("kardia", "naive")}
    for way, r in results.items():
        print(f"{way:>7}: {r['examples']} examples, {r['seconds']:.1f} s wall, peak RSS {r['peak_mb']:.0f} MB")
    k, n = results["kardia"], results["naive"]
    print(f"kardia vs naive: {n['seconds'] / k['seconds']:.2f}x faster, {n['peak_mb'] / k['peak_mb']:.2f}x less peak memory")
    print("targets: < 20 s and < 2048 MB →", "met" if k["seconds"] < 20 and k["peak_mb"] < 2048 else "NOT met")


if __name__ == "__main__":
    main()
