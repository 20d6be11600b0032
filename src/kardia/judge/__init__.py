"""Rubric-as-judge: score emotional-support replies on relevance, empathy, persona consistency, safety
and fluency with a chat model, robustly against gaming, cached and never crashing.

>>> from kardia.judge import Judge, JudgeItem, load_judge, load_rubric
"""

from kardia.judge.cache import JudgeCache
from kardia.judge.items import JudgeItem, JudgeResult
from kardia.judge.judge import Judge, JudgeStats, load_judge
from kardia.judge.rubric import Criterion, Rubric, load_rubric, normalize

__all__ = [
    "Criterion",
    "Judge",
    "JudgeCache",
    "JudgeItem",
    "JudgeResult",
    "JudgeStats",
    "Rubric",
    "load_judge",
    "load_rubric",
    "normalize",
]
