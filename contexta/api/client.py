"""Contexta 1.0's import path: the facade, its base error and ``dataset``."""

from contexta import __version__ as __version__
from contexta.common.errors import ContextaError
from contexta.dataset import dataset
from contexta.facade import Contexta

__all__ = ["Contexta", "ContextaError", "dataset"]
