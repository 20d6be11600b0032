"""Evaluation: generate, parse, judge and score a model on turn-level examples; compare runs.

>>> from kardia.evaluate import EvalConfig
>>> EvalConfig(mode="plain").generation_config().temperature
0.0
"""

from kardia.evaluate.run import EvalConfig, EvalError, EvalResult, load_run, run_evaluation

__all__ = ["EvalConfig", "EvalError", "EvalResult", "load_run", "run_evaluation"]
