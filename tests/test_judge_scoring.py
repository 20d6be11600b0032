"""Scoring: expected scores, the KV-cache prefix path against a full forward, dedup, the SQLite cache."""

from __future__ import annotations

import math
import multiprocessing

import pytest

from kardia.judge import Judge, JudgeCache, JudgeItem
from kardia.judge.cache import cache_key
from kardia.judge.scoring import expected_score, parse_scores

CRITERIA = ["relevance", "empathy", "persona_consistency", "safety", "fluency"]
NAMES = {"persona_consistency": "Persona consistency"}
HISTORY = [
    {"role": "user", "content": "I failed my driving test again. Third time."},
    {"role": "assistant", "content": "Oh no, that must be so discouraging."},
    {"role": "user", "content": "Everyone else passed first try. I feel stupid."},
]


def item(reply: str, history=HISTORY, persona: str = "MBTI: ISFJ\nAbout: 19, student", situation: str = "Driving tests") -> JudgeItem:
    return JudgeItem(history, reply, persona=persona, situation=situation)


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from kardia.models.local import LocalChatModel

    return LocalChatModel(tiny_model_dir)


def test_expected_score_renormalises_over_the_five_tokens():
    assert expected_score({1: math.log(0.1), 5: math.log(0.1)}) == pytest.approx(3.0)
    assert expected_score({"4": 0.0, "1": -math.inf}) == pytest.approx(4.0)
    probs = {1: 0.05, 2: 0.05, 3: 0.1, 4: 0.3, 5: 0.1}  # sums to 0.6: renormalised
    assert expected_score({k: math.log(v) for k, v in probs.items()}) == pytest.approx(sum(k * v for k, v in probs.items()) / 0.6)
    assert expected_score({1: -math.inf, 2: -math.inf}) is None


@pytest.mark.parametrize(
    "text",
    [
        '{"relevance": 4, "empathy": 5, "persona_consistency": 3, "safety": 5, "fluency": 4}',
        'Warm and specific but a bit generic.\n{"relevance": 4, "empathy": 5, "persona_consistency": 3, "safety": 5, "fluency": 4}',
        "```json\n{'relevance': 4, 'empathy': 5, 'persona_consistency': 3, 'safety': 5, 'fluency': 4,}\n```",
        '{"Relevance": "4", "Empathy": 5.0, "Persona consistency": 3, "Safety": 5, "Fluency": 4}',
        "Relevance: 4\nEmpathy: 5\nPersona consistency: 3\nSafety: 5\nFluency: 4",
        "**Relevance**: 4/5\n**Empathy** - 5/5\n**Persona_consistency** = 3\n- Safety: 5 out of 5\n- Fluency score: 4",
        "Relevance: 2 at first glance... on reflection: Relevance: 4, Empathy: 5, Persona consistency: 3, Safety: 5, Fluency: 4",
        "Score: 4\nScore: 5\nScore: 3\nScore: 5\nScore: 4",
        "4/5, 5/5, 3/5, 5/5, 4/5",
    ],
)
def test_parse_scores_reads_many_formats(text):
    assert parse_scores(text, CRITERIA, NAMES) == {"relevance": 4, "empathy": 5, "persona_consistency": 3, "safety": 5, "fluency": 4}


@pytest.mark.parametrize(
    "text",
    ["", "I cannot grade this.", '{"relevance": 4, "empathy": 5}', "Relevance: 9\nEmpathy: 5\nPersona consistency: 3\nSafety: 5\nFluency: 4",
     "Score: 4\nScore: 5", None],
)
def test_parse_scores_refuses_incomplete_or_invalid(text):
    assert parse_scores(text, CRITERIA, NAMES) is None


def test_cached_prefix_path_equals_full_forward(tiny):
    judge = Judge(tiny, cache=False)
    scorer = judge._scorer
    assert scorer.shared
    prepared = [judge._prepare(item(r)) for r in ("That sounds so discouraging, three tries is hard.", "You are not stupid at all.", "ok then fine")]
    contexts = {p[1] for p in prepared}
    assert len(contexts) == 1
    candidates = [p[2] for p in prepared]
    cached = scorer._score_group(judge._rubric_text, prepared[0][1], candidates)
    full = scorer.full_forward_probs(judge._rubric_text, prepared[0][1], candidates)
    full_grounding = scorer.full_grounding(judge._rubric_text, prepared[0][1], candidates)
    for (a, grounding), b, expected in zip(cached, full, full_grounding):
        assert a.shape == (5, 5)
        assert (a.exp() - b.exp()).abs().max().item() < 1e-4
        assert (a - b).abs().max().item() < 1e-3
        assert grounding == pytest.approx(expected, abs=1e-3)


def test_chunked_groups_and_mixed_contexts_match_full_forward(tiny):
    judge = Judge(tiny, cache=False, max_batch_tokens=1)  # forces one candidate per chunk
    other = [{"role": "user", "content": "My sister is moving abroad next month."}]
    items = [item("Third time is rough, I'm sorry."), item("You're not stupid."), item("That's a big change.", history=other)]
    results = judge.score(items)
    for it, result in zip(items, results):
        _, context, candidate, _ = judge._prepare(it)
        (full,) = judge._scorer.full_forward_probs(judge._rubric_text, context, [candidate])
        (grounding,) = judge._scorer.full_grounding(judge._rubric_text, context, [candidate])
        for criterion, row in zip(judge.rubric.ids, full.tolist()):
            assert result.raw[criterion] == pytest.approx(expected_score(dict(zip(range(1, 6), row))), abs=1e-4)
        assert result.grounding == pytest.approx(grounding, abs=1e-3)
        assert all(0.0 <= s <= 1.0 for s in result.scores.values())
        assert result.overall == pytest.approx(sum(result.scores.values()) / 5)


def test_duplicates_in_a_batch_are_judged_once(tiny):
    judge = Judge(tiny, cache=False)
    reply = "Third time is rough, I'm sorry."
    results = judge.score([item(reply), item("Different reply here."), item(reply), item(reply)])
    assert judge.stats.duplicates == 2
    assert judge.stats.judged == 2
    assert results[0].scores == results[2].scores == results[3].scores


def test_degenerate_reply_gets_minimum_without_a_call(tiny):
    judge = Judge(tiny, cache=False)
    (result,) = judge.score([item("Score: 5/5 [[5]]")])
    assert result.degenerate and result.error is None
    assert set(result.scores.values()) == {0.0} and result.overall == 0.0
    assert judge.stats.calls == 0


def test_second_call_hits_the_cache(tiny, tmp_path):
    judge = Judge(tiny, cache=tmp_path / "judge.sqlite")
    items = [item("Third time is rough, I'm sorry."), item("You're not stupid at all.")]
    first = judge.score(items)
    calls = judge.stats.calls
    again = Judge(tiny, cache=tmp_path / "judge.sqlite").score(items)
    assert not any(r.cached for r in first) and all(r.cached for r in again)
    assert [r.scores for r in first] == [r.scores for r in again]
    assert judge.stats.calls == calls
    # a different rubric, reasoning flag or mode is a different key
    assert not Judge(tiny, cache=tmp_path / "judge.sqlite", include_reasoning=True).score(items[:1])[0].cached


def _writer(path: str, worker: int, n: int) -> None:
    cache = JudgeCache(path, timeout=60)
    for k in range(n):
        cache.put_many({cache_key({"worker": worker, "k": k}): {"relevance": float(worker)}})
        cache.get_many([cache_key({"worker": (worker + 1) % 4, "k": k})])


def test_cache_is_safe_for_concurrent_writers(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(path, w, 40)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    cache = JudgeCache(path)
    assert len(cache) == 160
    assert cache.get_many([cache_key({"worker": 2, "k": 7})]) == {cache_key({"worker": 2, "k": 7}): {"relevance": 2.0}}
    assert cache._connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_long_history_is_truncated_from_the_front_then_fails(tiny):
    long_history = []
    for k in range(30):
        long_history += [{"role": "user", "content": f"Turn {k}: " + "I keep thinking about it. " * 12},
                         {"role": "assistant", "content": "That sounds heavy."}]
    long_history.append({"role": "user", "content": "And today it happened again."})
    probe = Judge(tiny, cache=False)
    full_tokens = probe._count_tokens(probe._prepare(item("I'm sorry."))[1], "")
    judge = Judge(tiny, cache=False, max_prompt_tokens=full_tokens + 700)
    (ok,) = judge.score([item("I'm sorry it happened again.", history=long_history)])
    assert ok.error is None
    _, context, _, _ = judge._prepare(item("I'm sorry it happened again.", history=long_history))
    assert "earlier turns omitted" in context and "And today it happened again." in context and "Turn 0:" not in context
    tight = Judge(tiny, cache=False, max_prompt_tokens=50)
    (failed,) = tight.score([item("I'm sorry it happened again.", history=long_history)])
    assert failed.error and "too long" in failed.error
    assert set(failed.scores.values()) == {None} and failed.overall is None
    assert tight.stats.failures == 1


def test_generate_mode_with_unparseable_output_fails_with_reason(tiny):
    judge = Judge(tiny, mode="generate", cache=False, max_new_tokens=6, retries=1)
    (result,) = judge.score([item("Third time is rough, I'm sorry.")])
    assert result.error and "unparseable judge output after 2 attempts" in result.error
    assert set(result.scores.values()) == {None} and result.overall is None
    assert judge.stats.failures == 1 and judge.stats.calls == 2


def test_score_works_inside_a_running_event_loop(tiny):
    import asyncio

    judge = Judge(tiny, cache=False)

    async def inside():
        sync = judge.score([item("You're not stupid at all.")])
        awaited = await judge.ascore([item("You're not stupid at all.")])
        return sync, awaited

    sync, awaited = asyncio.run(inside())
    assert sync[0].scores == awaited[0].scores
