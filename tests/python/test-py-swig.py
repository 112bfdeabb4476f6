"""The Python binding's suites on the SWIG backend (TAP); skipped when
the SWIG module was not built."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taprunner  # noqa: E402

taprunner.main("swig")
