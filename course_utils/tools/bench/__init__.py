"""``python -m course_utils bench``: the LSTM vs GRU benchmark (CPU or CUDA), JSON out."""

from .cli import *  # noqa: F401,F403
from .cli import main  # noqa: F401
