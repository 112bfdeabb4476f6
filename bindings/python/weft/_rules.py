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

Bytes, addresses and arrays (the socket, select and io calls):

- bytes in, ``(const void *buf, size_t len)``, is one argument: any
  C-contiguous bytes-like object (bytes, bytearray, memoryview, array,
  mmap), or None for (NULL, 0).  str is a TypeError, as in Python's own
  socket calls.  Addresses in, ``(const void *addr, size_t addr_len)``,
  are bytes in too: a struct sockaddr as sockaddr_make returns it.
- bytes out, ``(void *buf, size_t cap, size_t *n)``, is one argument,
  either an int, the most bytes wanted, and the call returns the bytes
  that came (WEFT_ERANGE, from readline or readall, is retried with the
  size the call reported, as for strings); or a writable bytes-like
  object, which the call fills and the count is returned (WEFT_ERANGE then
  raises: the caller's buffer cannot grow).  A negative size is an
  OverflowError, as for any size_t.
- an address out, ``(void *addr, size_t addr_cap, size_t *addr_len)``,
  is no argument: the address comes back as bytes (from a buffer of
  WEFT_SOCKADDR_MAX bytes), for sockaddr_parse to read.
- an array in, ``(T *a, size_t n)``, is one argument, a sequence of ints;
  when ``a`` is not const, C may rewrite it (select_wait does), and the
  list as the call left it is returned, in its place among the
  out-parameters.
- parallel arrays out, ``(T1 *a, T2 *b, size_t cap, size_t *n)``: cap is
  an argument (at most that many, >= 1) and the call returns a list of n
  ``(a[i], b[i])`` tuples (poller_poll's keys and events).
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
    # socket: creation, modes, options, names and the pure helpers.
    # bind is left out (an AF_UNIX bind writes to the file system), and
    # so is everything that resolves a name (sockaddr_make with a host
    # name, the resolver) or waits (accept, connect, send*, recv*).
    "weft_sockaddr_parse", "weft_socket_new", "weft_socket_pair_new",
    "weft_socket_fromfd_new", "weft_socket_detach", "weft_socket_fileno",
    "weft_socket_get_family", "weft_socket_get_type",
    "weft_socket_get_proto", "weft_socket_set_timeout",
    "weft_socket_get_timeout", "weft_socket_set_blocking",
    "weft_socket_get_blocking", "weft_socket_get_default_timeout",
    "weft_socket_set_default_timeout", "weft_socket_listen",
    "weft_socket_getsockname", "weft_socket_getpeername",
    "weft_socket_shutdown", "weft_socket_getsockopt",
    "weft_socket_getsockopt_bytes", "weft_socket_setsockopt",
    "weft_socket_setsockopt_bytes", "weft_addrinfo_count",
    "weft_addrinfo_get", "weft_addrinfo_canonname",
    "weft_socket_gethostname", "weft_socket_inet_aton",
    "weft_socket_inet_ntoa", "weft_socket_inet_pton",
    "weft_socket_inet_ntop", "weft_socket_htonl", "weft_socket_ntohl",
    "weft_socket_htons", "weft_socket_ntohs", "weft_socket_has_ipv6",
    # select: pollers' bookkeeping (only select_wait and poller_poll wait)
    "weft_poller_new", "weft_poller_register", "weft_poller_modify",
    "weft_poller_unregister", "weft_poller_register_fd",
    "weft_poller_modify_fd", "weft_poller_unregister_fd",
    # io: making a stream and asking about it (reads, writes and flushes
    # wait)
    "weft_stream_new", "weft_socket_makefile", "weft_stream_fileno",
    "weft_stream_readable", "weft_stream_writable",
    "weft_stream_set_timeout", "weft_stream_get_timeout",
    # signal: reading and setting state, timers, sending (signal_set may
    # wait for a handler another thread runs, dispatch runs handlers,
    # pause and wait block)
    "weft_signal_get", "weft_signal_get_delivery",
    "weft_signal_set_wakeup_fd", "weft_signal_wakeup_errors",
    "weft_signal_alarm", "weft_signal_setitimer", "weft_signal_getitimer",
    "weft_signal_siginterrupt", "weft_signal_strsignal",
    "weft_signal_valid", "weft_signal_raise", "weft_signal_pthread_kill",
    # ffi (the ctypes engine): types, layouts, fields, memory, preparing
    # functions and closures, errno (weft_ffi_library_open runs dlopen and
    # the library's constructors, find_library scans directories)
    "weft_ffi_type_named", "weft_ffi_pointer_new", "weft_ffi_array_new",
    "weft_ffi_type_size", "weft_ffi_type_align", "weft_ffi_type_kind",
    "weft_ffi_type_code", "weft_ffi_type_name", "weft_ffi_type_element",
    "weft_ffi_type_length", "weft_ffi_struct_new", "weft_ffi_struct_add",
    "weft_ffi_struct_finish", "weft_ffi_struct_flags",
    "weft_ffi_struct_field_count", "weft_ffi_struct_field_index",
    "weft_ffi_struct_field_name", "weft_ffi_struct_field_type",
    "weft_ffi_struct_field_layout", "weft_ffi_library_symbol",
    "weft_ffi_alloc", "weft_ffi_free", "weft_ffi_read_int",
    "weft_ffi_write_int", "weft_ffi_read_double", "weft_ffi_write_double",
    "weft_ffi_string_at", "weft_ffi_memmove", "weft_ffi_memset",
    "weft_ffi_address_of", "weft_ffi_struct_get_int",
    "weft_ffi_struct_set_int", "weft_ffi_struct_get_double",
    "weft_ffi_struct_set_double", "weft_ffi_function_new",
    "weft_ffi_function_parse", "weft_ffi_library_function",
    "weft_ffi_function_address", "weft_ffi_function_flags",
    "weft_ffi_function_arg_count", "weft_ffi_function_restype",
    "weft_ffi_function_argtype", "weft_ffi_function_name",
    "weft_ffi_errno_get", "weft_ffi_errno_set", "weft_ffi_closure_new",
    "weft_ffi_closure_address", "weft_ffi_closure_function",
])

# Waits where running out of time is an answer with out-parameters: on
# -ETIMEDOUT they return what C left in them (nothing ready: empty lists,
# zero counts) instead of raising TimeoutError.
EMPTY_ON_TIMEOUT = frozenset(["weft_select_wait", "weft_poller_poll"])

# The blocking calls: weft_thread_interrupt, a signal handler that raised
# inside the call, or (ctypes) any signal that interrupted the main
# thread's wait end them with -EINTR, having done nothing.  The backend
# then raises the exception a signal handler raised during the call, if
# one did, else runs the pending Python work (Python's own signal
# handlers: one that raises ends the call with its exception) and calls
# again, as Python does since PEP 475.  (Why ctypes returns for every
# signal: install_signal_check in _ctypes_backend.)  Any other call's
# -EINTR raises the handler's exception too (_errors.error), or
# InterruptedError.  The value
# names the argument that is the call's timeout, which the retry gets as
# the time left; None where the timeout is the handle's own (a socket's or
# a stream's), which each call starts afresh (docs/bindings.md).
RETRY_EINTR = {
    "weft_lock_acquire": "timeout", "weft_rlock_acquire": "timeout",
    "weft_condition_acquire": "timeout", "weft_semaphore_acquire": "timeout",
    "weft_condition_wait": "timeout", "weft_event_wait": "timeout",
    "weft_thread_join": "timeout", "weft_thread_shutdown": "timeout",
    "weft_sleep": "seconds", "weft_barrier_wait": "timeout",
    "weft_barrier_wait_default": None, "weft_dispatcher_run": "timeout",
    "weft_socket_accept": None, "weft_socket_connect": None,
    "weft_socket_connect_ex": None, "weft_socket_send": None,
    "weft_socket_sendall": None, "weft_socket_sendto": None,
    "weft_socket_recv": None, "weft_socket_recvfrom": None,
    "weft_socket_create_connection": None,
    "weft_select_wait": "timeout", "weft_poller_poll": "timeout",
    "weft_stream_read": None, "weft_stream_read1": None,
    "weft_stream_readall": None, "weft_stream_readline": None,
    "weft_stream_write": None, "weft_stream_flush": None,
}

# Calls in RETRY_EINTR that may have done part of their work before the
# interrupt, and say how much in an out-parameter: the retry goes on from
# there (the bytes after those that went) and returns the total.  When
# one fails, its exception says how much went in characters_written (as
# io's BlockingIOError does).
RESUME = {"weft_socket_sendall": "sent", "weft_stream_write": "written"}

# Bytes in that may also be an int n, passed as (NULL, n): Python's
# setsockopt(level, name, None, optlen).
NULL_WITH_LENGTH = frozenset(["weft_socket_setsockopt_bytes"])

# weft_status results that are values, not outcomes.
STATUS_VALUE = frozenset(["weft_last_error_code"])

# Not callable from Python: weft_thread_exit would end the OS thread under
# the Python frames that called it.  A Python thread ends by returning
# (weft.thread.exit raises SystemExit, as _thread.exit does).
# weft_ffi_call's void **args is an array of argument addresses, which the
# mechanical rules would take for an out-parameter: Python calls C
# functions through weft.ctypes (weft/_ffi.py), which converts its
# arguments itself.
EXCLUDED = frozenset(["weft_thread_exit", "weft_ffi_call"])

# Callback types whose callable C calls at most once: the backend drops
# its reference after that call.  Others stay referenced until the
# idiomatic layer calls forget(callable) after closing the handle.
ONESHOT = frozenset(["weft_thread_fn", "weft_dispatch_fn"])


def pyname(cname):
    """weft_lock_new -> lock_new."""
    return cname[5:] if cname.startswith("weft_") else cname
