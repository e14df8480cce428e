"""``python -m course_utils bench``: the LSTM vs GRU benchmark (CPU or CUDA), JSON out.

plan (what is measured) · workloads (peaks, grid, T sweep) · ladder (implementations) ·
schema (schema.json + the rules a schema cannot express) · cli (argparse, run, summary).
"""

from .cli import default_out, main, run, summary
from .plan import KINDS, MODES, PARTS, Plan
from .schema import SCHEMA, load_results, validate
from .workloads import measure_peaks

__all__ = ["KINDS", "MODES", "PARTS", "Plan", "SCHEMA", "default_out", "load_results", "main",
           "measure_peaks", "run", "summary", "validate"]
