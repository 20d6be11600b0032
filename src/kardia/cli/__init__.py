"""The `kardia` command line: a thin layer over the library. Commands import heavy libraries lazily."""

from kardia.cli.app import app
from kardia.cli import data as _data  # noqa: F401  (registers commands)
from kardia.cli import models as _models  # noqa: F401
from kardia.cli import build as _build  # noqa: F401
from kardia.cli import evaluate as _evaluate  # noqa: F401
from kardia.cli import judge as _judge  # noqa: F401
from kardia.cli import serve as _serve  # noqa: F401
from kardia.cli import train as _train  # noqa: F401

__all__ = ["app"]
