"""Four-span parsing and rendering: named problems, both modes, never raises, render→parse identity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kardia.emotions import EMOTIONS
from kardia.spans import SPAN_TOKENS, parse, render

GOOD = render("She is anxious about the exam.", "Validate the worry first.", "anxious", "That sounds stressful; you have prepared well.")


def test_eight_tokens():
    assert len(SPAN_TOKENS) == 8
    assert SPAN_TOKENS[0] == "<|understanding_begin|>" and SPAN_TOKENS[-1] == "<|response_end|>"


def test_well_formed():
    s = parse(GOOD, strict=True)
    assert s.ok and s.emotion == "anxious" and s.emotion_label == "anxious"
    assert s.response == "That sounds stressful; you have prepared well."


@pytest.mark.parametrize(
    "text, code",
    [
        (GOOD.replace("<|reasoning_begin|>Validate the worry first.<|reasoning_end|>", ""), "missing_span"),
        (render("u", "r", "sad", "x").replace("<|understanding_begin|>u<|understanding_end|>\n", "") + "\n<|understanding_begin|>u<|understanding_end|>", "wrong_order"),
        (GOOD + "<|response_begin|>again<|response_end|>", "repeated_span"),
        (GOOD.replace("<|response_end|>", ""), "unclosed_span"),
        (render("u", "", "sad", "x"), "empty_span"),
        ("Sure! " + GOOD, "text_outside"),
        (render("u", "r", "bored", "x"), "unknown_emotion"),
        (render("u", "r", "sad", " ".join(["word"] * 31)), "response_too_long"),
        (GOOD + "<|emotion_end|>", "stray_tag"),
    ],
)
def test_named_problems(text, code):
    assert code in parse(text).codes()
    assert code in parse(text, strict=True).codes()


def test_response_length_by_tokenizer(tokenizer):
    reply = "Supercalifragilistic " * 20
    assert "response_too_long" not in parse(render("u", "r", "sad", reply)).codes()  # 20 words
    assert "response_too_long" in parse(render("u", "r", "sad", reply), tokenizer=tokenizer).codes()


def test_plain_card_tags():
    text = "<understanding>u</understanding><reasoning>r</reasoning><emotion>sad</emotion><response>hi</response>"
    assert parse(text, strict=True).ok


def test_lenient_variants_and_recovery():
    text = "< |Understanding_Begin| >u<|UNDERSTANDING END|>\n<|reasoning-begin|>r<|reasoning-end|><|emotion_begin|> The user feels Sad. <|emotion_end|><|response_begin|>I'm here."
    lenient = parse(text + "<|im_end|>")
    assert lenient.understanding == "u" and lenient.reasoning == "r" and lenient.emotion_label == "sad"
    assert lenient.response == "I'm here."
    assert lenient.codes() == ["unclosed_span"]  # recovered, still reported
    strict = parse(text, strict=True)
    assert strict.response is None and strict.understanding is None


def test_trailing_end_of_turn_tokens():
    assert parse(GOOD + "<end_of_turn>\n").ok
    assert parse(GOOD + "<|im_end|><|endoftext|>").ok
    assert "text_outside" in parse(GOOD + "<|im_end|>", strict=True).codes()


def test_unknown_emotion_never_guessed():
    assert parse(render("u", "r", "somewhat meh", "x")).emotion_label is None


text_or_junk = st.one_of(
    st.text(),
    st.lists(st.sampled_from([*SPAN_TOKENS, "<understanding>", "</response>", "x", " ", "sad", "<|im_end|>", "<", "|>"])).map("".join),
    st.none(),
    st.integers(),
)


@settings(max_examples=400, deadline=None)
@given(text_or_junk, st.booleans())
def test_parse_never_raises(text, strict):
    result = parse(text, strict=strict)
    assert isinstance(result.problems, list)
    assert result.ok == (not result.problems)


field_text = st.text(alphabet=st.characters(blacklist_characters="<>|", blacklist_categories=("Cs",)), min_size=1).map(str.strip).filter(bool)


@settings(max_examples=300, deadline=None)
@given(field_text, field_text, st.sampled_from(EMOTIONS), field_text)
def test_render_parse_identity(u, r, e, resp):
    for strict in (True, False):
        s = parse(render(u, r, e, resp), strict=strict, max_response_tokens=10**6)
        assert (s.understanding, s.reasoning, s.emotion, s.response) == (u, r, e, resp)
        assert s.ok
