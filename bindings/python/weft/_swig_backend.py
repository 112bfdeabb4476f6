"""The SWIG backend: the extension module _weft_swig, built from
bindings/weft.i (its SWIGPYTHON block does in C what _ctypes_backend does
in Python, by the same rules: _rules.py).

This module only renames: weft_lock_new -> lock_new, and so on.
"""

from . import _errors, _rules
from . import _weft_swig

_weft_swig.set_error_factory(_errors.error, _errors.take_pending,
                             _errors.keep_pending)

forget = _weft_swig.forget
cell_count = _weft_swig.cell_count
check_signals = _weft_swig.check_signals
install_signal_check = _weft_swig.install_signal_check
LIBRARY = "libweft.so.0"  # what _weft_swig was linked against

__all__ = []
for _cname in dir(_weft_swig):
    if _cname.startswith("weft_"):
        globals()[_rules.pyname(_cname)] = getattr(_weft_swig, _cname)
        __all__.append(_rules.pyname(_cname))
__all__.sort()
del _cname
