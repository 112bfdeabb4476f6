"""How the low-level Python API differs from the plain C signatures.

Both backends follow these rules: the ctypes backend reads them here, the
SWIG backend spells the same sets in the SWIGPYTHON block of
bindings/weft.i.  The tests run one suite on both backends and compare
their functions, so a difference shows.

Every function is ``weft_<name>`` in C and ``<name>`` in the backend
module.  Mechanical rules (from the manifest, for every function):

- trailing pointer arguments are out-parameters: their values are
  returned (one value, or a tuple);
- ``(char *buf, size_t cap, size_t *len)`` returns a str and
  ``(T *buf, size_t cap, size_t *n)`` a list; both retry on WEFT_ERANGE
  with the size the first call reported;
- a callback typedef followed by its ``void *arg`` is one argument, a
  Python callable (or None);
- ``const char *`` takes str (UTF-8), bytes or None; an embedded NUL is a
  ValueError;
- a negative weft_status raises (weft._errors.error).
"""

# Waits where a timeout that runs out is an answer, as in Python's
# threading: they return True, or False on -ETIMEDOUT, instead of raising
# TimeoutError.  (Elsewhere, as for sockets, -ETIMEDOUT is TimeoutError.)
TIMED = frozenset([
    "weft_lock_acquire", "weft_rlock_acquire", "weft_condition_acquire",
    "weft_semaphore_acquire", "weft_condition_wait", "weft_event_wait",
    "weft_thread_join", "weft_thread_shutdown",
])

# Acquires that first try with timeout 0 without releasing the GIL, and
# release it only for a wait that really blocks: an uncontended acquire
# then costs no GIL hand-over.  A subset of TIMED.
POLL_FIRST = frozenset([
    "weft_lock_acquire", "weft_rlock_acquire", "weft_condition_acquire",
    "weft_semaphore_acquire",
])

# Functions that keep the GIL during the call: they never block and never
# run a callback.  Every other function releases it (a function added
# later releases it until it is listed here, which is always safe).
KEEP_GIL = frozenset([
    "weft_err_name", "weft_strerror", "weft_last_error_message",
    "weft_last_error_code", "weft_last_error_detail", "weft_version",
    "weft_version_number", "weft_handle_kind", "weft_constant_get",
    "weft_constant_count", "weft_constant_at", "weft_monotonic",
    "weft_thread_new", "weft_thread_is_alive", "weft_thread_get_name",
    "weft_thread_set_name", "weft_thread_get_ident",
    "weft_thread_get_native_id", "weft_thread_get_daemon",
    "weft_thread_set_daemon", "weft_thread_get_result",
    "weft_thread_current", "weft_thread_main", "weft_thread_enumerate",
    "weft_thread_active_count", "weft_thread_get_stack_size",
    "weft_thread_set_stack_size", "weft_thread_hook_new",
    "weft_thread_current_ident", "weft_thread_current_native_id",
    "weft_thread_interrupt_main", "weft_thread_interrupt",
    "weft_timer_new", "weft_timer_cancel",
    "weft_lock_new", "weft_lock_release", "weft_lock_locked",
    "weft_rlock_new", "weft_rlock_release", "weft_rlock_is_owned",
    "weft_condition_new", "weft_condition_release",
    "weft_condition_notify", "weft_condition_notify_all",
    "weft_semaphore_new", "weft_bounded_semaphore_new",
    "weft_semaphore_release", "weft_semaphore_get_value",
    "weft_event_new", "weft_event_set", "weft_event_clear",
    "weft_event_is_set",
    "weft_barrier_new", "weft_barrier_reset", "weft_barrier_abort",
    "weft_barrier_get_parties", "weft_barrier_get_n_waiting",
    "weft_barrier_is_broken",
    "weft_local_new", "weft_local_set", "weft_local_get",
    "weft_dispatcher_new", "weft_dispatcher_fd",
])

# weft_status results that are values, not outcomes.
STATUS_VALUE = frozenset(["weft_last_error_code"])

# Not callable from Python: weft_thread_exit would end the OS thread under
# the Python frames that called it.  A Python thread ends by returning
# (weft.thread.exit raises SystemExit, as _thread.exit does).
EXCLUDED = frozenset(["weft_thread_exit"])

# Callback types whose callable C calls at most once: the backend drops
# its reference after that call.  Others stay referenced until the
# idiomatic layer calls forget(callable) after closing the handle.
ONESHOT = frozenset(["weft_thread_fn", "weft_dispatch_fn"])


def pyname(cname):
    """weft_lock_new -> lock_new."""
    return cname[5:] if cname.startswith("weft_") else cname
