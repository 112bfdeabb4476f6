/* weft.i - the one SWIG interface file for every binding.
 *
 * SWIG generates the Python, Lua 5.4 and Ruby modules from this file and
 * abi/weft.h.  What every language shares is here, outside the #ifdef
 * blocks; each language's block holds only what really differs (how a
 * weft_status becomes the native error, out-parameters, byte buffers,
 * callbacks and the interpreter lock).  The idiomatic layers
 * (bindings/python/weft, bindings/lua/weft.lua, bindings/ruby/weft.rb) sit
 * on top of the generated modules.
 *
 * Module names come from the command line (swig -module ...), so the same
 * file serves every language's naming convention.
 */
%module weft

%{
#include "weft.h"
/* SWIG spells const int64_t * as long long const * in the call it makes;
 * on LP64 int64_t is long, so cast back to the header's type. */
#define weft_ffi_function_new(address, restype, argtypes, ...)              \
  weft_ffi_function_new(address, restype, (const weft_handle *)(argtypes),  \
                        __VA_ARGS__)
%}

/* ---------------------------------------------------------------- Python */
#ifdef SWIGPYTHON
/* Python: the extension module weft._weft_swig (swig -python -threads
 * -module weft_swig -interface _weft_swig), one backend of the package
 * bindings/python/weft; the other is ctypes.  Both follow the rules in
 * bindings/python/weft/_rules.py, which names the same function sets as
 * the lists below (TIMED, POLL_FIRST, KEEP_GIL, EXCLUDED, ONESHOT).
 *
 * -threads: every call releases the GIL, except the ones marked %nothread
 * below, which never block and never call back. */
%include <stdint.i>

%{
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <structmember.h>
#include <stdlib.h>
#include <string.h>

#if PY_VERSION_HEX < 0x03090000
#error "weft's SWIG module needs Python 3.9 or later"
#endif

/* ---- statuses as exceptions ---- */

/* weft._errors.error(code, name, message, detail), set when the package
 * imports this module; it builds the exception for a status. */
static PyObject *weft_py_error_factory;

static PyObject *weft_py_text(const char *s) {
  return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "surrogateescape");
}

/* Raise the exception for st.  Runs right after the failing call, on its
 * thread, so the last error is that call's. */
static void weft_py_raise(weft_status st) {
  PyObject *msg = weft_py_text(weft_last_error_message());
  int detail = weft_last_error_detail();
  PyObject *exc = NULL;
  if (msg == NULL)
    return;
  if (weft_py_error_factory != NULL)
    exc = PyObject_CallFunction(weft_py_error_factory, "iNOi", (int)st,
                                weft_py_text(weft_err_name(st)), msg, detail);
  else if (st > WEFT_ERR_BASE) /* used before the package set the factory */
    exc = PyObject_CallFunction(PyExc_OSError, "iO", -(int)st, msg);
  else
    exc = PyObject_CallFunctionObjArgs(PyExc_RuntimeError, msg, NULL);
  Py_DECREF(msg);
  if (exc != NULL) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
  }
}

/* Set characters_written on the exception being raised: how much a call
 * did before it failed (_rules.RESUME). */
static void weft_py_set_written(size_t written) {
  PyObject *et, *ev, *tb;
  PyErr_Fetch(&et, &ev, &tb);
  PyErr_NormalizeException(&et, &ev, &tb);
  PyObject *n = PyLong_FromSize_t(written);
  if (ev != NULL && n != NULL &&
      PyObject_SetAttrString(ev, "characters_written", n) < 0)
    PyErr_Clear();
  Py_XDECREF(n);
  PyErr_Restore(et, ev, tb);
}

/* weft._errors.take_pending and keep_pending, set with the factory: the
 * exception a signal handler raised inside the blocking call that
 * returned -EINTR (the factory itself turns that -EINTR into it). */
static PyObject *weft_py_pending_taker;
static PyObject *weft_py_pending_keeper;

/* Keep the exception being raised for the -EINTR that the blocking call
 * running on this thread is about to return (keep_pending); the error
 * indicator is cleared. */
static void weft_py_keep_raised(void) {
  PyObject *et, *ev, *tb;
  PyErr_Fetch(&et, &ev, &tb);
  PyErr_NormalizeException(&et, &ev, &tb);
  if (ev != NULL && tb != NULL)
    PyException_SetTraceback(ev, tb);
  PyObject *r = ev != NULL && weft_py_pending_keeper != NULL
                    ? PyObject_CallOneArg(weft_py_pending_keeper, ev)
                    : NULL;
  if (r == NULL && PyErr_Occurred())
    PyErr_WriteUnraisable(weft_py_pending_keeper);
  Py_XDECREF(r);
  Py_XDECREF(et);
  Py_XDECREF(ev);
  Py_XDECREF(tb);
}

/* After -EINTR in a call that is retried (_rules.RETRY_EINTR): 1, the
 * exception set, if a signal handler raised one during the call or one of
 * Python's own pending handlers raises one now; 0 to call again. */
static int weft_py_eintr(void) {
  if (weft_py_pending_taker != NULL) {
    PyObject *exc = PyObject_CallNoArgs(weft_py_pending_taker);
    if (exc == NULL)
      return 1;
    if (exc != Py_None) {
      PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
      Py_DECREF(exc);
      return 1;
    }
    Py_DECREF(exc);
  }
  return PyErr_CheckSignals() < 0;
}

/* Out-parameters: one value is returned as is, more as a tuple. */
static PyObject *weft_py_append(PyObject *result, PyObject *value) {
  if (value == NULL || result == NULL || result == Py_None) {
    Py_XDECREF(result);
    return value;
  }
  PyObject *head = PyTuple_Check(result) ? (Py_INCREF(result), result)
                                         : PyTuple_Pack(1, result);
  PyObject *tail = PyTuple_Pack(1, value);
  PyObject *t = head && tail ? PySequence_Concat(head, tail) : NULL;
  Py_XDECREF(head);
  Py_XDECREF(tail);
  Py_DECREF(value);
  Py_DECREF(result);
  return t;
}

/* An input string: None is NULL, str is encoded as UTF-8, bytes pass as
 * they are.  A C string ends at its first NUL, so one inside is refused
 * instead of cutting the string short.  *keep owns the bytes. */
static int weft_py_cstring(PyObject *o, char **out, PyObject **keep) {
  char *s;
  Py_ssize_t n;
  *keep = NULL;
  if (o == Py_None) {
    *out = NULL;
    return 0;
  }
  if (PyUnicode_Check(o)) {
    o = *keep = PyUnicode_AsEncodedString(o, "utf-8", "surrogateescape");
    if (o == NULL)
      return -1;
  } else if (!PyBytes_Check(o)) {
    PyErr_Format(PyExc_TypeError, "expected str, bytes or None, not %.200s",
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  PyBytes_AsStringAndSize(o, &s, &n);
  if ((size_t)n != strlen(s)) {
    Py_CLEAR(*keep);
    PyErr_SetString(PyExc_ValueError, "embedded null character");
    return -1;
  }
  *out = s;
  return 0;
}

/* ---- cells: the callables C may call ----
 *
 * C gets a trampoline and, as its void *arg, the callable's address.  The
 * address is only ever a key into weft_py_cells, which holds the callable
 * ({address: (callable, registrations)}): a call whose key is gone does
 * nothing, so C can never reach a collected callable.  One-shot callbacks
 * (a thread's target) drop their registration when called; the others
 * keep it until the package calls forget(callable) after closing the
 * handle.  All of it runs with the GIL held. */
static PyObject *weft_py_cells;
/* The callable cell_get found last, and its key: the next call of the
 * same callback finds it without a dict lookup.  Every registration that
 * goes (cell_drop) forgets it. */
static void *weft_py_cell_last_key;
static PyObject *weft_py_cell_last;

static int weft_py_cell_put(PyObject *fn);
static int weft_py_cell_add(PyObject *fn) {
  if (!PyCallable_Check(fn)) {
    PyErr_Format(PyExc_TypeError, "expected a callable or None, not %.200s",
                 Py_TYPE(fn)->tp_name);
    return -1;
  }
  return weft_py_cell_put(fn);
}

/* Register any object (a closure's (callable, codes, retsize) cell). */
static int weft_py_cell_put(PyObject *fn) {
  if (weft_py_cells == NULL && (weft_py_cells = PyDict_New()) == NULL)
    return -1;
  PyObject *key = PyLong_FromVoidPtr(fn);
  if (key == NULL)
    return -1;
  PyObject *cell = PyDict_GetItemWithError(weft_py_cells, key);
  Py_ssize_t n = cell != NULL ? PyLong_AsSsize_t(PyTuple_GET_ITEM(cell, 1)) : 0;
  PyObject *fresh = PyErr_Occurred() ? NULL : Py_BuildValue("(On)", fn, n + 1);
  int rc = fresh != NULL ? PyDict_SetItem(weft_py_cells, key, fresh) : -1;
  Py_XDECREF(fresh);
  Py_DECREF(key);
  return rc;
}

/* Drop one registration of the callable at key; a new reference to the
 * callable, or NULL if it is not registered.  It may run while an
 * exception is pending (a failed call's freearg): that one is kept. */
static PyObject *weft_py_cell_drop(void *key_ptr) {
  PyObject *et, *ev, *tb, *fn = NULL;
  if (weft_py_cells == NULL)
    return NULL;
  PyErr_Fetch(&et, &ev, &tb);
  if (key_ptr == weft_py_cell_last_key) {
    weft_py_cell_last_key = NULL;
    Py_CLEAR(weft_py_cell_last); /* the dict still holds it */
  }
  PyObject *key = PyLong_FromVoidPtr(key_ptr);
  PyObject *cell = key ? PyDict_GetItemWithError(weft_py_cells, key) : NULL;
  if (cell != NULL) {
    fn = PyTuple_GET_ITEM(cell, 0);
    Py_INCREF(fn);
    Py_ssize_t n = PyLong_AsSsize_t(PyTuple_GET_ITEM(cell, 1)) - 1;
    PyObject *fresh = n > 0 ? Py_BuildValue("(On)", fn, n) : NULL;
    if (fresh != NULL)
      PyDict_SetItem(weft_py_cells, key, fresh);
    else
      PyDict_DelItem(weft_py_cells, key);
    Py_XDECREF(fresh);
  }
  Py_XDECREF(key);
  PyErr_Clear();
  PyErr_Restore(et, ev, tb);
  return fn;
}

/* The callable at key (a new reference), or NULL if it is not registered. */
static PyObject *weft_py_cell_get(void *key_ptr) {
  if (key_ptr != NULL && key_ptr == weft_py_cell_last_key) {
    Py_INCREF(weft_py_cell_last);
    return weft_py_cell_last;
  }
  PyObject *key = weft_py_cells ? PyLong_FromVoidPtr(key_ptr) : NULL;
  PyObject *cell = key ? PyDict_GetItemWithError(weft_py_cells, key) : NULL;
  PyObject *fn = cell != NULL ? PyTuple_GET_ITEM(cell, 0) : NULL;
  Py_XINCREF(fn);
  if (fn != NULL) { /* the previous one is still registered: not freed */
    Py_INCREF(fn);
    Py_XSETREF(weft_py_cell_last, fn);
    weft_py_cell_last_key = key_ptr;
  }
  Py_XDECREF(key);
  PyErr_Clear();
  return fn;
}

/* ---- entering Python from a callback ----
 *
 * A callback may run on a thread Python has never seen (a weft thread, a
 * timer worker, a thread of another language).  PyGILState_Ensure makes a
 * thread state there and PyGILState_Release destroys it again, every call
 * (what ctypes does: ~9 us).  Instead, the first callback on such a thread
 * takes one more hold on its thread state, so Release keeps it, and the
 * thread's exit deletes it (weft_py_thread_exit).  Later callbacks on that
 * thread only take the GIL. */
static pthread_key_t weft_py_tstate_key; /* the state we keep for a thread */
static pthread_once_t weft_py_tstate_once = PTHREAD_ONCE_INIT;

static int weft_py_finalizing(void) {
#if PY_VERSION_HEX >= 0x030D0000
  return !Py_IsInitialized() || Py_IsFinalizing();
#else
  return !Py_IsInitialized() || _Py_IsFinalizing();
#endif
}

/* Delete ts, a thread state of the calling thread that it does not hold. */
static void weft_py_tstate_delete(PyThreadState *ts) {
  PyEval_RestoreThread(ts);
  PyThreadState_Clear(ts);
  PyThreadState_DeleteCurrent();
}

/* The thread exits.  Once the interpreter is finalizing, it has freed (or
 * will free) every thread state itself. */
static void weft_py_thread_exit(void *ts) {
  if (!weft_py_finalizing())
    weft_py_tstate_delete(ts);
}

static void weft_py_tstate_key_create(void) {
  pthread_key_create(&weft_py_tstate_key, weft_py_thread_exit);
}

/* 0 if Python can no longer be entered (it is finalizing). */
static int weft_py_enter(PyGILState_STATE *gs) {
  if (weft_py_finalizing())
    return 0;
  if (PyGILState_GetThisThreadState() != NULL) {
    *gs = PyGILState_Ensure();
    return 1;
  }
  pthread_once(&weft_py_tstate_once, weft_py_tstate_key_create);
  /* Ours, but unknown to Python: the thread is exiting and its TSD was
   * cleared before our destructor ran.  Delete it; we make another. */
  PyThreadState *lost = pthread_getspecific(weft_py_tstate_key);
  if (lost != NULL)
    weft_py_tstate_delete(lost);
  *gs = PyGILState_Ensure(); /* makes this thread's state */
  (void)PyGILState_Ensure(); /* the hold that only the thread's exit ends */
  pthread_setspecific(weft_py_tstate_key, PyGILState_GetThisThreadState());
  return 1;
}

/* Call the callable registered under key, with no argument or with one
 * (a handle, a pointer as an int).  Its result as a C int: None is 0, an
 * int its value, an exception -1 (reported by sys.unraisablehook; a
 * SystemExit quietly ends the call, 0, as in _thread). */
enum { WEFT_PY_NOARG, WEFT_PY_HANDLE, WEFT_PY_POINTER };
/* An int argument (a signal number) travels as a handle does. */
#define WEFT_PY_INT WEFT_PY_HANDLE

static int weft_py_callback(void *key, int oneshot, int argkind,
                            weft_handle h, void *p) {
  PyGILState_STATE gs;
  if (!weft_py_enter(&gs))
    return -1;
  int rc = 0;
  PyObject *fn = oneshot ? weft_py_cell_drop(key) : weft_py_cell_get(key);
  if (fn != NULL) {
    PyObject *r;
    if (argkind == WEFT_PY_NOARG)
      r = PyObject_CallObject(fn, NULL);
    else
      r = PyObject_CallFunction(fn, "N", argkind == WEFT_PY_HANDLE
                                             ? PyLong_FromLongLong(h)
                                             : PyLong_FromVoidPtr(p));
    if (r == NULL) {
      rc = -1;
      if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyErr_Clear();
        rc = 0;
      } else {
        PyErr_WriteUnraisable(fn);
      }
    } else if (r != Py_None) {
      long v = PyLong_Check(r) ? PyLong_AsLong(r) : 0;
      rc = v < INT32_MIN || v > INT32_MAX ? -1 : (int)v;
      if (PyErr_Occurred()) {
        PyErr_Clear();
        rc = -1;
      }
    }
    Py_XDECREF(r);
    Py_DECREF(fn);
  }
  PyGILState_Release(gs);
  return rc;
}

/* The trampolines C calls, one per callback type. */
static int weft_py_thread_fn(void *arg) {
  return weft_py_callback(arg, 1, WEFT_PY_NOARG, 0, NULL);
}
static int weft_py_barrier_action(void *arg) {
  return weft_py_callback(arg, 0, WEFT_PY_NOARG, 0, NULL);
}
static void weft_py_local_dtor(void *arg, void *value) {
  (void)weft_py_callback(arg, 0, WEFT_PY_POINTER, 0, value);
}
static void weft_py_thread_hook(void *arg, weft_handle thread) {
  (void)weft_py_callback(arg, 0, WEFT_PY_HANDLE, thread, NULL);
}
static void weft_py_dispatch(void *arg) {
  (void)weft_py_callback(arg, 1, WEFT_PY_NOARG, 0, NULL);
}
/* A signal check set from Python (signal_set_check(callable)). */
static int weft_py_signal_check(void *arg) {
  return weft_py_callback(arg, 0, WEFT_PY_NOARG, 0, NULL);
}

/* A signal handler: weft.signal's callable, run inside a blocking call of
 * the main thread (or by a dispatch), which catches the handler's
 * exception and returns 1 for it.  Python's own pending handlers run
 * first, from here: at the callable's first line an exception of theirs
 * would escape it (and be lost).  Nonzero if either failed. */
static int weft_py_signal_fn(void *arg, int signum) {
  PyGILState_STATE gs;
  if (!weft_py_enter(&gs))
    return 0;
  int failed = 0;
  if (PyErr_CheckSignals() < 0) {
    weft_py_keep_raised();
    failed = 1;
  }
  PyObject *fn = weft_py_cell_get(arg);
  if (fn != NULL) {
    PyObject *r = PyObject_CallFunction(fn, "i", signum);
    if (r == NULL) {
      PyErr_WriteUnraisable(fn);
      failed = 1;
    } else if (r != Py_None && PyObject_IsTrue(r) != 0) {
      failed = 1;
    }
    PyErr_Clear();
    Py_XDECREF(r);
    Py_DECREF(fn);
  }
  PyGILState_Release(gs);
  return failed;
}

/* weft's signal check for Python (install_signal_check): inside a
 * blocking weft call of the main thread that a signal interrupted, run
 * Python's own pending handlers (Ctrl-C's default_int_handler, those of
 * the standard signal module); one that raises fails the call, its
 * exception kept for the -EINTR. */
static int weft_py_python_signals(void *arg) {
  (void)arg;
  PyGILState_STATE gs;
  if (!weft_py_enter(&gs))
    return 0;
  int failed = PyErr_CheckSignals() < 0;
  if (failed)
    weft_py_keep_raised();
  PyGILState_Release(gs);
  return failed;
}
%}

/* ---- what the package calls besides weft's functions ---- */
%rename(set_error_factory) weft_py_set_error_factory;
%rename(forget) weft_py_forget;
%rename(cell_count) weft_py_cell_count;
%rename(check_signals) weft_py_check_signals;
%rename(install_signal_check) weft_py_install_signal_check;
%nothread weft_py_set_error_factory;
%nothread weft_py_forget;
%nothread weft_py_cell_count;
%nothread weft_py_check_signals;
%nothread weft_py_install_signal_check;
%inline %{
/* Set the function that builds exceptions (weft._errors.error) and the
 * two that take and keep a signal handler's pending exception
 * (weft._errors.take_pending, keep_pending). */
void weft_py_set_error_factory(PyObject *factory, PyObject *taker,
                               PyObject *keeper) {
  Py_XINCREF(factory);
  Py_XSETREF(weft_py_error_factory, factory);
  Py_XINCREF(taker);
  Py_XSETREF(weft_py_pending_taker, taker);
  Py_XINCREF(keeper);
  Py_XSETREF(weft_py_pending_keeper, keeper);
}
/* Make Python's own signal handlers run inside the main thread's
 * blocking weft calls (weft_signal_set_check: weft_py_python_signals). */
void weft_py_install_signal_check(void) {
  (void)weft_signal_set_check(weft_py_python_signals, NULL);
}
/* Run Python's pending signal handlers now (PyErr_CheckSignals; on the
 * main thread only): the exception one raises is raised here. */
PyObject *weft_py_check_signals(void) {
  if (PyErr_CheckSignals() < 0)
    return NULL;
  Py_RETURN_NONE;
}
/* Drop one registration of fn: C will not call it any more. */
void weft_py_forget(PyObject *fn) {
  Py_XDECREF(weft_py_cell_drop(fn));
}
/* Registrations alive (for tests: nothing leaks). */
long weft_py_cell_count(void) {
  Py_ssize_t n = 0, pos = 0;
  PyObject *key, *cell;
  while (weft_py_cells && PyDict_Next(weft_py_cells, &pos, &key, &cell))
    n += PyLong_AsSsize_t(PyTuple_GET_ITEM(cell, 1));
  return (long)n;
}
%}

/* ---- statuses ---- */

/* A negative status raises; success returns the out-parameters (None if
 * there are none). */
%typemap(out) weft_status {
  if ($1 < 0) {
    weft_py_raise($1);
    SWIG_fail;
  }
  $result = SWIG_Py_Void();
}

/* Waits where running out of time is an answer (_rules.TIMED): True, or
 * False on -ETIMEDOUT. */
%typemap(out) weft_status weft_lock_acquire, weft_status weft_rlock_acquire,
              weft_status weft_condition_acquire,
              weft_status weft_semaphore_acquire,
              weft_status weft_condition_wait, weft_status weft_event_wait,
              weft_status weft_thread_join, weft_status weft_thread_shutdown {
  if ($1 < 0 && $1 != -ETIMEDOUT) {
    weft_py_raise($1);
    SWIG_fail;
  }
  $result = PyBool_FromLong($1 == 0);
}

/* Functions with an output buffer: WEFT_ERANGE is not raised here; the
 * buffer's argout typemap calls again with the size the first call
 * reported (ABI.md 5). */
%typemap(out) weft_status weft_thread_get_name, weft_status weft_constant_at,
              weft_status weft_thread_enumerate,
              weft_status weft_sockaddr_parse,
              weft_status weft_addrinfo_canonname,
              weft_status weft_socket_getnameinfo,
              weft_status weft_socket_gethostbyname,
              weft_status weft_socket_gethostbyname_ex,
              weft_status weft_socket_gethostbyaddr,
              weft_status weft_socket_gethostname,
              weft_status weft_socket_getfqdn,
              weft_status weft_socket_getservbyport,
              weft_status weft_socket_inet_ntoa,
              weft_status weft_socket_inet_ntop,
              weft_status weft_socket_getsockopt_bytes,
              weft_status weft_socket_recv, weft_status weft_socket_recvfrom,
              weft_status weft_socket_inet_aton,
              weft_status weft_socket_inet_pton,
              weft_status weft_stream_read, weft_status weft_stream_read1,
              weft_status weft_stream_readall,
              weft_status weft_stream_readline,
              weft_status weft_signal_strsignal,
              weft_status weft_ffi_type_name,
              weft_status weft_ffi_struct_field_name,
              weft_status weft_ffi_find_library,
              weft_status weft_ffi_string_at,
              weft_status weft_ffi_function_name {
  if ($1 < 0 && $1 != WEFT_ERANGE) {
    weft_py_raise($1);
    SWIG_fail;
  }
  if ($1 == 0)
    $result = SWIG_Py_Void();
}

/* A status as a value, not an outcome (_rules.STATUS_VALUE). */
%typemap(out) weft_status weft_last_error_code "$result = PyLong_FromLong($1);"

/* ---- arguments ---- */

%typemap(in) const char * (PyObject *keep = NULL) {
  if (weft_py_cstring($input, &$1, &keep) < 0)
    SWIG_fail;
}
%typemap(freearg) const char * "Py_XDECREF(keep$argnum);"

/* A plain void * (weft_local_set's value) is an int, None is NULL. */
%typemap(in) void * {
  $1 = $input == Py_None ? NULL : PyLong_AsVoidPtr($input);
  if (PyErr_Occurred())
    SWIG_fail;
}

/* Trailing pointers are out-parameters: their values are returned. */
%define WEFT_PY_OUTPUT(TYPE, TO_PYTHON)
%typemap(in, numinputs=0, noblock=1) TYPE *(TYPE temp = 0) {
  $1 = &temp;
}
%typemap(argout, noblock=1) TYPE * {
  $result = weft_py_append($result, TO_PYTHON(*$1));
  if ($result == NULL)
    SWIG_fail;
}
%enddef
WEFT_PY_OUTPUT(int, PyLong_FromLong)
WEFT_PY_OUTPUT(int64_t, PyLong_FromLongLong)
WEFT_PY_OUTPUT(uint64_t, PyLong_FromUnsignedLongLong)
WEFT_PY_OUTPUT(size_t, PyLong_FromSize_t)
WEFT_PY_OUTPUT(void *, PyLong_FromVoidPtr)
WEFT_PY_OUTPUT(uint32_t, PyLong_FromUnsignedLong)
WEFT_PY_OUTPUT(unsigned int, PyLong_FromUnsignedLong)
WEFT_PY_OUTPUT(double, PyFloat_FromDouble)

/* (char *buf, size_t cap, size_t *len) returns a str.  The first call
 * uses a buffer on the stack; on WEFT_ERANGE the argout of a buffer that
 * was too small jumps back to the label the check typemap put just before
 * the call, with a buffer of the reported size.  The label drops the
 * out-parameters the argouts before it had added, so the call's outputs
 * are added once, after the call that fits (a function may have two
 * buffers, getnameinfo, and out-parameters before them, sockaddr_parse). */
%typemap(in, numinputs=0) (char *buf, size_t cap, size_t *len)
    (char stack[64], char *heap = NULL, size_t n = 0) {
  $1 = stack;
  $2 = sizeof stack;
  $3 = &n;
}
%typemap(check, noblock=1) (char *buf, size_t cap, size_t *len) {
weft_py_call$argnum: Py_CLEAR(resultobj);
}
%typemap(argout) (char *buf, size_t cap, size_t *len) {
  if (result == WEFT_ERANGE) {
    if (n$argnum >= $2) {
      free(heap$argnum);
      if ((heap$argnum = malloc(n$argnum + 1)) == NULL) {
        PyErr_NoMemory();
        SWIG_fail;
      }
      $1 = heap$argnum;
      $2 = n$argnum + 1;
      goto weft_py_call$argnum;
    }
  } else {
    $result = weft_py_append($result,
                             PyUnicode_DecodeUTF8($1, (Py_ssize_t)n$argnum,
                                                  "surrogateescape"));
    if ($result == NULL)
      SWIG_fail;
  }
}
%typemap(freearg) (char *buf, size_t cap, size_t *len) "free(heap$argnum);"
%apply (char *buf, size_t cap, size_t *len) {
  (char *name, size_t cap, size_t *name_len),
  (char *host, size_t host_cap, size_t *host_len),
  (char *serv, size_t serv_cap, size_t *serv_len),
  (char *buf, size_t cap, size_t *text_len)
}

/* (weft_handle *buf, size_t cap, size_t *n) returns a list, the same way. */
%typemap(in, numinputs=0) (weft_handle *buf, size_t cap, size_t *n)
    (weft_handle stack[32], weft_handle *heap = NULL, size_t n = 0) {
  $1 = stack;
  $2 = sizeof stack / sizeof stack[0];
  $3 = &n;
}
%typemap(check, noblock=1) (weft_handle *buf, size_t cap, size_t *n) {
weft_py_call$argnum: Py_CLEAR(resultobj);
}
%typemap(argout) (weft_handle *buf, size_t cap, size_t *n) {
  if (result == WEFT_ERANGE && n$argnum > $2) {
    free(heap$argnum);
    if ((heap$argnum = malloc(n$argnum * sizeof *heap$argnum)) == NULL) {
      PyErr_NoMemory();
      SWIG_fail;
    }
    $1 = heap$argnum;
    $2 = n$argnum;
    goto weft_py_call$argnum;
  }
  PyObject *list = PyList_New((Py_ssize_t)n$argnum);
  for (size_t i = 0; list != NULL && i < n$argnum; i++) {
    PyObject *h = PyLong_FromLongLong($1[i]);
    if (h == NULL)
      Py_CLEAR(list);
    else
      PyList_SET_ITEM(list, (Py_ssize_t)i, h);
  }
  $result = weft_py_append($result, list);
  if ($result == NULL)
    SWIG_fail;
}
%typemap(freearg) (weft_handle *buf, size_t cap, size_t *n) "free(heap$argnum);"

/* A callback and its void *arg: one Python callable, or None.  The
 * callable is registered before the call and kept if the call succeeds
 * (the argout), dropped if it fails (the freearg, which also runs on the
 * failure path). */
%define WEFT_PY_CALLBACK(PAIR, TRAMPOLINE)
%typemap(in) PAIR (PyObject *cell = NULL) {
  if ($input == Py_None) {
    $1 = NULL;
    $2 = NULL;
  } else {
    if (weft_py_cell_add($input) < 0)
      SWIG_fail;
    cell = $input;
    $1 = TRAMPOLINE;
    $2 = (void *)$input;
  }
}
%typemap(argout) PAIR "cell$argnum = NULL;"
%typemap(freearg) PAIR "if (cell$argnum) Py_XDECREF(weft_py_cell_drop(cell$argnum));"
%enddef
WEFT_PY_CALLBACK((weft_thread_fn target, void *arg), weft_py_thread_fn)
WEFT_PY_CALLBACK((weft_thread_fn fn, void *arg), weft_py_thread_fn)
WEFT_PY_CALLBACK((weft_barrier_action_fn action, void *arg),
                 weft_py_barrier_action)
WEFT_PY_CALLBACK((weft_local_dtor_fn dtor, void *dtor_arg),
                 weft_py_local_dtor)
WEFT_PY_CALLBACK((weft_thread_hook_fn hook, void *arg), weft_py_thread_hook)
WEFT_PY_CALLBACK((weft_dispatch_fn fn, void *arg), weft_py_dispatch)
WEFT_PY_CALLBACK((weft_signal_fn fn, void *arg), weft_py_signal_fn)
WEFT_PY_CALLBACK((weft_signal_check_fn fn, void *arg), weft_py_signal_check)

/* ---- socket, select, io: bytes, addresses, arrays (_rules.py) ---- */

%{
/* _rules.NULL_WITH_LENGTH: bytes in that may be an int n, (NULL, n). */
static int weft_py_null_with_length(const char *fn) {
  return strcmp(fn, "weft_socket_setsockopt_bytes") == 0;
}

/* Bytes in: a C-contiguous bytes-like object (PyObject_GetBuffer's own
 * TypeError or BufferError otherwise), None for (NULL, 0), or with
 * lengths_ok an int n for (NULL, n).  *have is set when view must be
 * released. */
static int weft_py_bytes_in(PyObject *o, int lengths_ok, Py_buffer *view,
                            int *have, const void **p, size_t *n) {
  if (o == Py_None) {
    *p = NULL;
    *n = 0;
    return 0;
  }
  if (lengths_ok && PyLong_Check(o)) {
    *n = PyLong_AsSize_t(o);
    *p = NULL;
    return *n == (size_t)-1 && PyErr_Occurred() ? -1 : 0;
  }
  if (PyObject_GetBuffer(o, view, PyBUF_SIMPLE) < 0)
    return -1;
  *have = 1;
  *p = view->buf;
  *n = (size_t)view->len;
  return 0;
}

/* Bytes out that are not an int: a writable C-contiguous buffer. */
static int weft_py_bytes_out(PyObject *o, Py_buffer *view) {
  if (PyUnicode_Check(o) || PyBytes_Check(o) ||
      !PyObject_CheckBuffer(o)) {
    PyErr_Format(PyExc_TypeError, "expected an int or a writable "
                 "bytes-like object, not %.200s", Py_TYPE(o)->tp_name);
    return -1;
  }
  if (PyObject_GetBuffer(o, view, PyBUF_WRITABLE) < 0) {
    if (PyErr_ExceptionMatches(PyExc_BufferError) &&
        PyObject_GetBuffer(o, view, PyBUF_SIMPLE) == 0) {
      /* it has a buffer, a read-only one */
      PyBuffer_Release(view);
      PyErr_Format(PyExc_TypeError, "expected an int or a writable "
                   "bytes-like object, not read-only %.200s",
                   Py_TYPE(o)->tp_name);
    }
    return -1;
  }
  return 0;
}

/* A fresh bytes object of n bytes to receive into, or NULL (an error
 * set).  Never the shared empty one, which must not be resized. */
static PyObject *weft_py_bytes_new(size_t n) {
  if (n > (size_t)PY_SSIZE_T_MAX - 1) { /* what ctypes says too */
    PyErr_SetString(PyExc_OverflowError,
                    "cannot fit 'int' into an index-sized integer");
    return NULL;
  }
  return PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n ? n : 1));
}

/* An array of handles in: a sequence of ints into a malloc'd array
 * (never NULL, also for none). */
static int weft_py_handles_in(PyObject *o, int64_t **out, size_t *count) {
  PyObject *seq = PySequence_Fast(o, "expected a sequence of handles");
  if (seq == NULL)
    return -1;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  int64_t *a = malloc((n > 0 ? (size_t)n : 1) * sizeof *a);
  if (a == NULL) {
    Py_DECREF(seq);
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    a[i] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, i));
    if (a[i] == -1 && PyErr_Occurred()) {
      free(a);
      Py_DECREF(seq);
      return -1;
    }
  }
  Py_DECREF(seq);
  *out = a;
  *count = (size_t)n;
  return 0;
}

/* weft_py_raise for a call that did part of its work first
 * (_rules.RESUME): the exception says how much in characters_written. */
static void weft_py_raise_written(weft_status st, size_t written) {
  weft_py_raise(st);
  weft_py_set_written(written);
}
%}

/* Bytes in: any bytes-like object, None for (NULL, 0); addresses, AF_UNIX
 * paths and packed IP addresses too. */
%typemap(in) (const void *buf, size_t len) (Py_buffer view, int have = 0) {
  if (weft_py_bytes_in($input, weft_py_null_with_length("$symname"), &view,
                       &have, (const void **)&$1, &$2) < 0)
    SWIG_fail;
}
%typemap(freearg) (const void *buf, size_t len)
  "if (have$argnum) PyBuffer_Release(&view$argnum);"
%apply (const void *buf, size_t len) {
  (const void *addr, size_t addr_len), (const void *host, size_t host_len),
  (const void *packed, size_t len)
}

/* Bytes out: an int (the most wanted) gives bytes, received straight into
 * a new bytes object, which is then cut to what came (grown and called
 * again on WEFT_ERANGE, as strings are); a writable buffer is filled and
 * the count returned (WEFT_ERANGE raises: it cannot grow). */
%typemap(in) (void *buf, size_t cap, size_t *n)
    (Py_buffer view, int have = 0, PyObject *bytes = NULL, size_t got = 0) {
  if (PyLong_Check($input)) {
    $2 = PyLong_AsSize_t($input);
    if ($2 == (size_t)-1 && PyErr_Occurred())
      SWIG_fail;
    if ((bytes = weft_py_bytes_new($2)) == NULL)
      SWIG_fail;
    $1 = PyBytes_AS_STRING(bytes);
  } else {
    if (weft_py_bytes_out($input, &view) < 0)
      SWIG_fail;
    have = 1;
    $1 = view.buf;
    $2 = (size_t)view.len;
  }
  $3 = &got;
}
%typemap(check, noblock=1) (void *buf, size_t cap, size_t *n) {
weft_py_call$argnum: Py_CLEAR(resultobj);
}
%typemap(argout) (void *buf, size_t cap, size_t *n) {
  if (bytes$argnum != NULL && result == WEFT_ERANGE && got$argnum > $2) {
    Py_DECREF(bytes$argnum);
    if ((bytes$argnum = weft_py_bytes_new(got$argnum)) == NULL)
      SWIG_fail;
    $1 = PyBytes_AS_STRING(bytes$argnum);
    $2 = got$argnum;
    goto weft_py_call$argnum;
  }
  if (result == WEFT_ERANGE) {
    weft_py_raise(result);
    SWIG_fail;
  }
  PyObject *out;
  if (bytes$argnum != NULL) {
    if (_PyBytes_Resize(&bytes$argnum, (Py_ssize_t)got$argnum) < 0)
      SWIG_fail;
    out = bytes$argnum;
    bytes$argnum = NULL;
  } else {
    out = PyLong_FromSize_t(got$argnum);
  }
  $result = weft_py_append($result, out);
  if ($result == NULL)
    SWIG_fail;
}
%typemap(freearg) (void *buf, size_t cap, size_t *n) {
  Py_XDECREF(bytes$argnum);
  if (have$argnum)
    PyBuffer_Release(&view$argnum);
}

/* An address out: bytes, from a buffer of WEFT_SOCKADDR_MAX bytes. */
%typemap(in, numinputs=0) (void *addr, size_t addr_cap, size_t *addr_len)
    (char abuf[WEFT_SOCKADDR_MAX], size_t alen = 0) {
  $1 = abuf;
  $2 = sizeof abuf;
  $3 = &alen;
}
%typemap(argout) (void *addr, size_t addr_cap, size_t *addr_len) {
  $result = weft_py_append($result,
                           PyBytes_FromStringAndSize($1, (Py_ssize_t)alen$argnum));
  if ($result == NULL)
    SWIG_fail;
}

/* An array of handles in (select_wait): a sequence of ints; C rewrites it,
 * and the list as C left it is returned. */
%typemap(in) (weft_handle *rlist, size_t nr) (int64_t *arr = NULL) {
  if (weft_py_handles_in($input, &arr, &$2) < 0)
    SWIG_fail;
  $1 = arr;
}
%typemap(argout) (weft_handle *rlist, size_t nr) {
  PyObject *list = PyList_New((Py_ssize_t)$2);
  for (size_t i = 0; list != NULL && i < $2; i++) {
    PyObject *h = PyLong_FromLongLong($1[i]);
    if (h == NULL)
      Py_CLEAR(list);
    else
      PyList_SET_ITEM(list, (Py_ssize_t)i, h);
  }
  $result = weft_py_append($result, list);
  if ($result == NULL)
    SWIG_fail;
}
%typemap(freearg) (weft_handle *rlist, size_t nr) "free(arr$argnum);"
%apply (weft_handle *rlist, size_t nr) {
  (weft_handle *wlist, size_t nw), (weft_handle *xlist, size_t nx)
}

/* Handles in, read only (ffi_function_new's argtypes): a sequence of
 * ints. */
%typemap(in) (const weft_handle *argtypes, size_t nargs) (int64_t *arr = NULL) {
  if (weft_py_handles_in($input, &arr, &$2) < 0)
    SWIG_fail;
  $1 = arr;
}
%typemap(freearg) (const weft_handle *argtypes, size_t nargs) "free(arr$argnum);"
/* ... and never an out-parameter (the pointer typemaps would return
 * argtypes[0]). */
%typemap(argout) (const weft_handle *argtypes, size_t nargs) ""

/* Parallel arrays out (poller_poll): cap in, a list of (key, events). */
%typemap(in) (int64_t *keys, uint32_t *events, size_t cap, size_t *n)
    (int64_t *k = NULL, uint32_t *e = NULL, size_t got = 0) {
  $3 = PyLong_Check($input) ? PyLong_AsSize_t($input) : (size_t)-1;
  if (!PyLong_Check($input))
    PyErr_Format(PyExc_TypeError, "expected an int, not %.200s",
                 Py_TYPE($input)->tp_name);
  if (PyErr_Occurred())
    SWIG_fail;
  if ($3 <= SIZE_MAX / sizeof *k) { /* else the sizes would wrap */
    k = malloc(($3 ? $3 : 1) * sizeof *k);
    e = malloc(($3 ? $3 : 1) * sizeof *e);
  }
  if (k == NULL || e == NULL) {
    PyErr_NoMemory();
    SWIG_fail;
  }
  $1 = k;
  $2 = e;
  $4 = &got;
}
%typemap(argout) (int64_t *keys, uint32_t *events, size_t cap, size_t *n) {
  PyObject *list = PyList_New((Py_ssize_t)got$argnum);
  for (size_t i = 0; list != NULL && i < got$argnum; i++) {
    PyObject *pair = Py_BuildValue("(Lk)", (long long)$1[i],
                                   (unsigned long)$2[i]);
    if (pair == NULL)
      Py_CLEAR(list);
    else
      PyList_SET_ITEM(list, (Py_ssize_t)i, pair);
  }
  $result = weft_py_append($result, list);
  if ($result == NULL)
    SWIG_fail;
}
%typemap(freearg) (int64_t *keys, uint32_t *events, size_t cap, size_t *n)
  "free(k$argnum); free(e$argnum);"

/* _rules.EMPTY_ON_TIMEOUT: running out of time returns the (empty)
 * outputs. */
%typemap(out) weft_status weft_select_wait, weft_status weft_poller_poll {
  if ($1 < 0 && $1 != -ETIMEDOUT) {
    weft_py_raise($1);
    SWIG_fail;
  }
  $result = SWIG_Py_Void();
}

/* _rules.RETRY_EINTR: -EINTR raises what a signal handler raised during
 * the call, or runs Python's pending signal handlers (one that raises ends
 * the call), and calls again; TIMEOUT, if the call has one,
 * gets the time left.  _rules.RESUME: the retry goes on after the bytes
 * that went, and DONE ends as the total (a failure says it in the
 * exception's characters_written). */
%define WEFT_PY_RETRY(FN)
%exception FN {
  for (;;) {
    $action
    if (result != -EINTR)
      break;
    if (weft_py_eintr())
      SWIG_fail;
  }
}
%enddef
%define WEFT_PY_RETRY_TIMED(FN, TIMEOUT)
%exception FN {
  double weft_py_end = TIMEOUT > 0 ? weft_monotonic() + TIMEOUT : 0;
  for (;;) {
    $action
    if (result != -EINTR)
      break;
    if (weft_py_eintr())
      SWIG_fail;
    if (weft_py_end > 0) {
      TIMEOUT = weft_py_end - weft_monotonic();
      if (TIMEOUT < 0)
        TIMEOUT = 0;
    }
  }
}
%enddef
%define WEFT_PY_RESUME(FN, BUF, LEN, DONE)
%exception FN {
  size_t weft_py_done = 0;
  for (;;) {
    $action
    weft_py_done += *DONE;
    if (result != -EINTR)
      break;
    if (weft_py_eintr()) {
      weft_py_set_written(weft_py_done);
      SWIG_fail;
    }
    BUF = (char *)BUF + *DONE; /* SWIG's copy of the pointer drops const */
    LEN -= *DONE;
  }
  *DONE = weft_py_done;
}
%typemap(out) weft_status FN {
  if ($1 < 0) {
    weft_py_raise_written($1, *DONE);
    SWIG_fail;
  }
  $result = SWIG_Py_Void();
}
%enddef
WEFT_PY_RETRY(weft_socket_accept)
WEFT_PY_RETRY(weft_socket_connect)
WEFT_PY_RETRY(weft_socket_connect_ex)
WEFT_PY_RETRY(weft_socket_send)
WEFT_PY_RETRY(weft_socket_sendto)
WEFT_PY_RETRY(weft_socket_recv)
WEFT_PY_RETRY(weft_socket_recvfrom)
WEFT_PY_RETRY(weft_socket_create_connection)
WEFT_PY_RETRY(weft_stream_read)
WEFT_PY_RETRY(weft_stream_read1)
WEFT_PY_RETRY(weft_stream_readall)
WEFT_PY_RETRY(weft_stream_readline)
WEFT_PY_RETRY(weft_stream_flush)
WEFT_PY_RETRY_TIMED(weft_select_wait, arg7)
WEFT_PY_RETRY_TIMED(weft_poller_poll, arg2)
WEFT_PY_RETRY_TIMED(weft_sleep, arg1)
WEFT_PY_RETRY_TIMED(weft_thread_join, arg2)
WEFT_PY_RETRY_TIMED(weft_thread_shutdown, arg1)
WEFT_PY_RETRY_TIMED(weft_condition_wait, arg2)
WEFT_PY_RETRY_TIMED(weft_event_wait, arg2)
WEFT_PY_RETRY_TIMED(weft_barrier_wait, arg2)
WEFT_PY_RETRY(weft_barrier_wait_default)
WEFT_PY_RETRY_TIMED(weft_dispatcher_run, arg2)
WEFT_PY_RESUME(weft_socket_sendall, arg2, arg3, arg5)
WEFT_PY_RESUME(weft_stream_write, arg2, arg3, arg4)

/* ---- the GIL ---- */

/* Uncontended acquires (_rules.POLL_FIRST) succeed without handing the
 * GIL over: a try with timeout 0 first, the real wait (GIL released) only
 * if that fails.  NaN goes straight to the call, which refuses it.  They
 * are RETRY_EINTR calls too: each retry starts with the try. */
%define WEFT_PY_POLL_FIRST_RETRY(FN)
%exception FN {
  double weft_py_end = arg2 > 0 ? weft_monotonic() + arg2 : 0;
  for (;;) {
    result = isnan(arg2) ? -ETIMEDOUT : FN(arg1, 0);
    if (result == -ETIMEDOUT && arg2 != 0) {
      $action
    }
    if (result != -EINTR)
      break;
    if (weft_py_eintr())
      SWIG_fail;
    if (weft_py_end > 0) {
      arg2 = weft_py_end - weft_monotonic();
      if (arg2 < 0)
        arg2 = 0;
    }
  }
}
%enddef
WEFT_PY_POLL_FIRST_RETRY(weft_lock_acquire)
WEFT_PY_POLL_FIRST_RETRY(weft_rlock_acquire)
WEFT_PY_POLL_FIRST_RETRY(weft_condition_acquire)
WEFT_PY_POLL_FIRST_RETRY(weft_semaphore_acquire)

/* Calls that keep the GIL (_rules.KEEP_GIL): they never block and never
 * call back. */
%nothread weft_err_name;
%nothread weft_strerror;
%nothread weft_last_error_message;
%nothread weft_last_error_code;
%nothread weft_last_error_detail;
%nothread weft_version;
%nothread weft_version_number;
%nothread weft_handle_kind;
%nothread weft_constant_get;
%nothread weft_constant_count;
%nothread weft_constant_at;
%nothread weft_monotonic;
%nothread weft_thread_new;
%nothread weft_thread_is_alive;
%nothread weft_thread_get_name;
%nothread weft_thread_set_name;
%nothread weft_thread_get_ident;
%nothread weft_thread_get_native_id;
%nothread weft_thread_get_daemon;
%nothread weft_thread_set_daemon;
%nothread weft_thread_get_result;
%nothread weft_thread_current;
%nothread weft_thread_main;
%nothread weft_thread_enumerate;
%nothread weft_thread_active_count;
%nothread weft_thread_get_stack_size;
%nothread weft_thread_set_stack_size;
%nothread weft_thread_hook_new;
%nothread weft_thread_current_ident;
%nothread weft_thread_current_native_id;
%nothread weft_thread_interrupt_main;
%nothread weft_thread_interrupt;
%nothread weft_timer_new;
%nothread weft_timer_cancel;
%nothread weft_lock_new;
%nothread weft_lock_release;
%nothread weft_lock_locked;
%nothread weft_rlock_new;
%nothread weft_rlock_release;
%nothread weft_rlock_is_owned;
%nothread weft_condition_new;
%nothread weft_condition_release;
%nothread weft_condition_notify;
%nothread weft_condition_notify_all;
%nothread weft_semaphore_new;
%nothread weft_bounded_semaphore_new;
%nothread weft_semaphore_release;
%nothread weft_semaphore_get_value;
%nothread weft_event_new;
%nothread weft_event_set;
%nothread weft_event_clear;
%nothread weft_event_is_set;
%nothread weft_barrier_new;
%nothread weft_barrier_reset;
%nothread weft_barrier_abort;
%nothread weft_barrier_get_parties;
%nothread weft_barrier_get_n_waiting;
%nothread weft_barrier_is_broken;
%nothread weft_local_new;
%nothread weft_local_set;
%nothread weft_local_get;
%nothread weft_dispatcher_new;
%nothread weft_dispatcher_fd;
%nothread weft_sockaddr_parse;
%nothread weft_socket_new;
%nothread weft_socket_pair_new;
%nothread weft_socket_fromfd_new;
%nothread weft_socket_detach;
%nothread weft_socket_fileno;
%nothread weft_socket_get_family;
%nothread weft_socket_get_type;
%nothread weft_socket_get_proto;
%nothread weft_socket_set_timeout;
%nothread weft_socket_get_timeout;
%nothread weft_socket_set_blocking;
%nothread weft_socket_get_blocking;
%nothread weft_socket_get_default_timeout;
%nothread weft_socket_set_default_timeout;
%nothread weft_socket_listen;
%nothread weft_socket_getsockname;
%nothread weft_socket_getpeername;
%nothread weft_socket_shutdown;
%nothread weft_socket_getsockopt;
%nothread weft_socket_getsockopt_bytes;
%nothread weft_socket_setsockopt;
%nothread weft_socket_setsockopt_bytes;
%nothread weft_addrinfo_count;
%nothread weft_addrinfo_get;
%nothread weft_addrinfo_canonname;
%nothread weft_socket_gethostname;
%nothread weft_socket_inet_aton;
%nothread weft_socket_inet_ntoa;
%nothread weft_socket_inet_pton;
%nothread weft_socket_inet_ntop;
%nothread weft_socket_htonl;
%nothread weft_socket_ntohl;
%nothread weft_socket_htons;
%nothread weft_socket_ntohs;
%nothread weft_socket_has_ipv6;
%nothread weft_poller_new;
%nothread weft_poller_register;
%nothread weft_poller_modify;
%nothread weft_poller_unregister;
%nothread weft_poller_register_fd;
%nothread weft_poller_modify_fd;
%nothread weft_poller_unregister_fd;
%nothread weft_stream_new;
%nothread weft_socket_makefile;
%nothread weft_stream_fileno;
%nothread weft_stream_readable;
%nothread weft_stream_writable;
%nothread weft_stream_set_timeout;
%nothread weft_stream_get_timeout;
%nothread weft_signal_get;
%nothread weft_signal_get_delivery;
%nothread weft_signal_set_wakeup_fd;
%nothread weft_signal_wakeup_errors;
%nothread weft_signal_alarm;
%nothread weft_signal_setitimer;
%nothread weft_signal_getitimer;
%nothread weft_signal_siginterrupt;
%nothread weft_signal_strsignal;
%nothread weft_signal_valid;
%nothread weft_signal_raise;
%nothread weft_signal_pthread_kill;
%nothread weft_ffi_type_named;
%nothread weft_ffi_pointer_new;
%nothread weft_ffi_array_new;
%nothread weft_ffi_type_size;
%nothread weft_ffi_type_align;
%nothread weft_ffi_type_kind;
%nothread weft_ffi_type_code;
%nothread weft_ffi_type_name;
%nothread weft_ffi_type_element;
%nothread weft_ffi_type_length;
%nothread weft_ffi_struct_new;
%nothread weft_ffi_struct_add;
%nothread weft_ffi_struct_finish;
%nothread weft_ffi_struct_flags;
%nothread weft_ffi_struct_field_count;
%nothread weft_ffi_struct_field_index;
%nothread weft_ffi_struct_field_name;
%nothread weft_ffi_struct_field_type;
%nothread weft_ffi_struct_field_layout;
%nothread weft_ffi_library_symbol;
%nothread weft_ffi_alloc;
%nothread weft_ffi_free;
%nothread weft_ffi_read_int;
%nothread weft_ffi_write_int;
%nothread weft_ffi_read_double;
%nothread weft_ffi_write_double;
%nothread weft_ffi_string_at;
%nothread weft_ffi_memmove;
%nothread weft_ffi_memset;
%nothread weft_ffi_address_of;
%nothread weft_ffi_struct_get_int;
%nothread weft_ffi_struct_set_int;
%nothread weft_ffi_struct_get_double;
%nothread weft_ffi_struct_set_double;
%nothread weft_ffi_function_new;
%nothread weft_ffi_function_parse;
%nothread weft_ffi_library_function;
%nothread weft_ffi_function_address;
%nothread weft_ffi_function_flags;
%nothread weft_ffi_function_arg_count;
%nothread weft_ffi_function_restype;
%nothread weft_ffi_function_argtype;
%nothread weft_ffi_function_name;
%nothread weft_ffi_errno_get;
%nothread weft_ffi_errno_set;
%nothread weft_ffi_closure_new;
%nothread weft_ffi_closure_address;
%nothread weft_ffi_closure_function;

/* ---- the ctypes engine (weft.ctypes; weft/_ffi.py) ----
 *
 * The generic wrappers of the weft_ffi_* functions follow the rules above,
 * with a few typemaps of their own.  weft.ctypes calls C functions through
 * ffi_call_py, not weft_ffi_call (whose void **args is an array of
 * argument addresses, not an out-parameter: _rules.EXCLUDED), and makes
 * its callbacks with ffi_closure_new_py; both convert between Python
 * objects and C values here, by the code strings weft/_ffi.py describes
 * (one ctypes code per value: ? c u b B h H i I l L q Q f d g z Z P, X for
 * an aggregate by its address, * for another pointer, v for void). */

/* An address in (the memory a struct field is read from): an int, None
 * for NULL. */
%typemap(in) const void *address {
  $1 = $input == Py_None ? NULL : PyLong_AsVoidPtr($input);
  if (PyErr_Occurred())
    SWIG_fail;
}
/* weft_ffi_address_of's buffer: an int, None, or any bytes-like object
 * (its bytes' address). */
%typemap(in) const void *buffer {
  if ($input == Py_None || PyLong_Check($input)) {
    $1 = $input == Py_None ? NULL : PyLong_AsVoidPtr($input);
  } else {
    Py_buffer view;
    if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) < 0)
      SWIG_fail;
    $1 = view.buf;
    PyBuffer_Release(&view);
  }
  if (PyErr_Occurred())
    SWIG_fail;
}
%{
/* The generic closure handler (weft.lib.ffi_closure_new(signature,
 * callable)): callable(ret, args), the two addresses as ints (ret None
 * for void). */
static void weft_py_ffi_handler(void *arg, void *ret, void **args) {
  PyGILState_STATE gs;
  if (!weft_py_enter(&gs))
    return;
  PyObject *fn = weft_py_cell_get(arg);
  if (fn != NULL) {
    PyObject *r = PyObject_CallFunction(
        fn, "NN", ret ? PyLong_FromVoidPtr(ret) : (Py_INCREF(Py_None), Py_None),
        PyLong_FromVoidPtr(args));
    if (r == NULL)
      PyErr_WriteUnraisable(fn);
    Py_XDECREF(r);
    Py_DECREF(fn);
  }
  PyGILState_Release(gs);
}

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o) {
  Py_INCREF(o);
  return o;
}
#endif

/* The modes of a call's code string (its second byte, '@' + bits). */
enum {
  WEFT_PY_FFI_RELEASE = 1,
  WEFT_PY_FFI_STRICT = 2,
  WEFT_PY_FFI_DEFER = 4,
  WEFT_PY_FFI_EXACT = 8 /* each argument exactly the Python type of its
                           code's default conversion (no argtypes) */
};

/* In the EXACT mode: is o of the type a call without argtypes passes
 * by code? */
static int weft_py_ffi_exact(char code, PyObject *o) {
  switch (code) {
  case 'i': {
    int overflow = 0;
    if (!PyLong_CheckExact(o) && !PyBool_Check(o))
      return 0;
    /* one beyond a long long: the converting path says if it fits */
    (void)PyLong_AsLongLongAndOverflow(o, &overflow);
    return overflow == 0;
  }
  case 'd':
    return PyFloat_CheckExact(o);
  case 'z':
    return PyBytes_CheckExact(o);
  case 'Z':
    return PyUnicode_CheckExact(o);
  case 'P':
    return o == Py_None;
  default:
    return 0;
  }
}

/* A C value of any scalar code, in an argument's slot. */
typedef union {
  int64_t i;
  double d;
  long double g;
  void *p;
} weft_py_ffi_slot;

/* Results of the conversions below: done, an error set, or (lenient
 * mode) a Python type the code does not take as it is. */
enum { WEFT_PY_FFI_OK = 0, WEFT_PY_FFI_ERROR = -1, WEFT_PY_FFI_DECLINE = 1 };

static int weft_py_ffi_type_error(int index, char code, PyObject *o) {
  if (index >= 0)
    PyErr_Format(PyExc_TypeError,
                 "argument %d: wrong type for code '%c': %.200s", index + 1,
                 code, Py_TYPE(o)->tp_name);
  else
    PyErr_Format(PyExc_TypeError, "wrong result type for code '%c': %.200s",
                 code, Py_TYPE(o)->tp_name);
  return WEFT_PY_FFI_ERROR;
}

/* Store o as a C value of code at dst (an argument's slot, or a closure's
 * result).  strict: a wrong type is a TypeError, else DECLINE.  *wide
 * receives a wchar_t string made for Z or P (to PyMem_Free after the
 * call; results never make one).  Ints are masked to the type, as ctypes
 * does; a float where an int is wanted is refused. */
static int weft_py_ffi_from_python(char code, PyObject *o, void *dst,
                                   int strict, int index, wchar_t **wide) {
  unsigned long long u;
  double d;
  switch (code) {
  case 'b':
  case 'B':
  case 'h':
  case 'H':
  case 'i':
  case 'I':
  case 'l':
  case 'L':
  case 'q':
  case 'Q':
    if (!PyLong_Check(o)) {
      if (!strict)
        return WEFT_PY_FFI_DECLINE;
      if (PyFloat_Check(o) || !PyIndex_Check(o))
        return weft_py_ffi_type_error(index, code, o);
    }
    u = PyLong_AsUnsignedLongLongMask(o);
    if (u == (unsigned long long)-1 && PyErr_Occurred())
      return WEFT_PY_FFI_ERROR;
    switch (code) {
    case 'b':
    case 'B':
      *(uint8_t *)dst = (uint8_t)u;
      break;
    case 'h':
    case 'H':
      *(uint16_t *)dst = (uint16_t)u;
      break;
    case 'i':
    case 'I':
      *(unsigned int *)dst = (unsigned int)u;
      break;
    case 'l':
    case 'L':
      *(unsigned long *)dst = (unsigned long)u;
      break;
    default:
      *(unsigned long long *)dst = u;
    }
    return WEFT_PY_FFI_OK;
  case '?': {
    int t = PyObject_IsTrue(o);
    if (t < 0)
      return WEFT_PY_FFI_ERROR;
    *(uint8_t *)dst = (uint8_t)t;
    return WEFT_PY_FFI_OK;
  }
  case 'c':
    if (PyBytes_Check(o) && PyBytes_GET_SIZE(o) == 1) {
      *(char *)dst = PyBytes_AS_STRING(o)[0];
      return WEFT_PY_FFI_OK;
    }
    if (PyByteArray_Check(o) && PyByteArray_GET_SIZE(o) == 1) {
      *(char *)dst = PyByteArray_AS_STRING(o)[0];
      return WEFT_PY_FFI_OK;
    }
    if (PyLong_Check(o)) {
      long v = PyLong_AsLong(o);
      if (v >= 0 && v < 256) {
        *(char *)dst = (char)v;
        return WEFT_PY_FFI_OK;
      }
      PyErr_Clear();
    }
    return strict ? weft_py_ffi_type_error(index, code, o)
                  : WEFT_PY_FFI_DECLINE;
  case 'u':
    if (PyUnicode_Check(o) && PyUnicode_GET_LENGTH(o) == 1) {
      wchar_t w[2];
      if (PyUnicode_AsWideChar(o, w, 2) != 1)
        return weft_py_ffi_type_error(index, code, o);
      *(wchar_t *)dst = w[0];
      return WEFT_PY_FFI_OK;
    }
    return strict ? weft_py_ffi_type_error(index, code, o)
                  : WEFT_PY_FFI_DECLINE;
  case 'f':
  case 'd':
  case 'g':
    if (!PyFloat_Check(o) && !PyLong_Check(o) && !strict)
      return WEFT_PY_FFI_DECLINE;
    d = PyFloat_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      return weft_py_ffi_type_error(index, code, o);
    }
    if (code == 'f')
      *(float *)dst = (float)d;
    else if (code == 'd')
      *(double *)dst = d;
    else
      *(long double *)dst = d;
    return WEFT_PY_FFI_OK;
  case 'z':
  case 'Z':
  case 'P':
  case '*':
    if (o == Py_None) {
      *(void **)dst = NULL;
      return WEFT_PY_FFI_OK;
    }
    if (PyLong_Check(o) && (code != '*' || strict)) {
      void *p = PyLong_AsVoidPtr(o);
      if (p == NULL && PyErr_Occurred())
        return WEFT_PY_FFI_ERROR;
      *(void **)dst = p;
      return WEFT_PY_FFI_OK;
    }
    if (wide != NULL && PyBytes_Check(o) && (code == 'z' || code == 'P')) {
      *(void **)dst = PyBytes_AS_STRING(o); /* the args tuple keeps o */
      return WEFT_PY_FFI_OK;
    }
    if (wide != NULL && PyUnicode_Check(o) && (code == 'Z' || code == 'P')) {
      if ((*wide = PyUnicode_AsWideCharString(o, NULL)) == NULL)
        return WEFT_PY_FFI_ERROR;
      *(void **)dst = *wide;
      return WEFT_PY_FFI_OK;
    }
    return strict ? weft_py_ffi_type_error(index, code, o)
                  : WEFT_PY_FFI_DECLINE;
  default:
    PyErr_Format(PyExc_ValueError, "unknown ffi code '%c'", code);
    return WEFT_PY_FFI_ERROR;
  }
}

/* The Python value of the C value of code at p (a result, or a closure's
 * argument): ints and floats, bool, bytes for c and z, str for u and Z,
 * an int or None for pointers, the address itself for X. */
static PyObject *weft_py_ffi_to_python(char code, const void *p) {
  switch (code) {
  case 'v':
    Py_RETURN_NONE;
  case '?':
    return PyBool_FromLong(*(const uint8_t *)p);
  case 'c':
    return PyBytes_FromStringAndSize((const char *)p, 1);
  case 'u':
    return PyUnicode_FromWideChar((const wchar_t *)p, 1);
  case 'b':
    return PyLong_FromLong(*(const signed char *)p);
  case 'B':
    return PyLong_FromLong(*(const unsigned char *)p);
  case 'h':
    return PyLong_FromLong(*(const short *)p);
  case 'H':
    return PyLong_FromLong(*(const unsigned short *)p);
  case 'i':
    return PyLong_FromLong(*(const int *)p);
  case 'I':
    return PyLong_FromUnsignedLong(*(const unsigned int *)p);
  case 'l':
    return PyLong_FromLong(*(const long *)p);
  case 'L':
    return PyLong_FromUnsignedLong(*(const unsigned long *)p);
  case 'q':
    return PyLong_FromLongLong(*(const long long *)p);
  case 'Q':
    return PyLong_FromUnsignedLongLong(*(const unsigned long long *)p);
  case 'f':
    return PyFloat_FromDouble(*(const float *)p);
  case 'd':
    return PyFloat_FromDouble(*(const double *)p);
  case 'g':
    return PyFloat_FromDouble((double)*(const long double *)p);
  case 'z': {
    const char *s = *(char *const *)p;
    if (s == NULL)
      Py_RETURN_NONE;
    return PyBytes_FromString(s);
  }
  case 'Z': {
    const wchar_t *s = *(wchar_t *const *)p;
    if (s == NULL)
      Py_RETURN_NONE;
    return PyUnicode_FromWideChar(s, -1);
  }
  case 'P':
  case '*': {
    void *a = *(void *const *)p;
    if (a == NULL)
      Py_RETURN_NONE;
    return PyLong_FromVoidPtr(a);
  }
  case 'X':
    return PyLong_FromVoidPtr((void *)p);
  default:
    PyErr_Format(PyExc_ValueError, "unknown ffi code '%c'", code);
    return NULL;
  }
}

/* Arguments a call converts on the stack; more take the heap. */
#define WEFT_PY_FFI_STACK 16

/* ffi_call_py(fn, codes, args[, ret]): call the weft function fn with the
 * tuple args converted by the code string codes (weft/_ffi.py), and
 * return its result as a Python value (for an X result, ret is the
 * address its bytes go to, and None is returned).  In the lenient mode a
 * count or a type the codes do not take returns NotImplemented, before
 * the call.  The GIL is released around weft_ffi_call in the RELEASE
 * mode. */
static PyObject *weft_py_ffi_call_args(weft_handle fn, PyObject *codes_obj,
                                       PyObject *const *items,
                                       Py_ssize_t nitems, PyObject *retobj) {
  const char *codes = PyBytes_AS_STRING(codes_obj);
  int mode = codes[1] - '@';
  int strict = mode & WEFT_PY_FFI_STRICT;
  if (mode & WEFT_PY_FFI_DEFER)
    Py_RETURN_NOTIMPLEMENTED;
  Py_ssize_t n = PyBytes_GET_SIZE(codes_obj) - 2;
  if (nitems != n) {
    if (!strict)
      Py_RETURN_NOTIMPLEMENTED;
    PyErr_Format(PyExc_TypeError,
                 "this function takes %zd argument%s "
                 "(%zd given)",
                 n, n == 1 ? "" : "s", nitems);
    return NULL;
  }
  weft_py_ffi_slot stack_slots[WEFT_PY_FFI_STACK];
  void *stack_ptrs[WEFT_PY_FFI_STACK];
  wchar_t *stack_wide[WEFT_PY_FFI_STACK];
  weft_py_ffi_slot *slots = stack_slots;
  void **ptrs = stack_ptrs;
  wchar_t **wide = stack_wide;
  PyObject *result = NULL;
  Py_ssize_t i, done = 0;
  if (n > WEFT_PY_FFI_STACK) {
    slots = PyMem_Malloc((size_t)n * sizeof *slots);
    ptrs = PyMem_Malloc((size_t)n * sizeof *ptrs);
    wide = PyMem_Calloc((size_t)n, sizeof *wide);
    if (slots == NULL || ptrs == NULL || wide == NULL) {
      PyErr_NoMemory();
      goto out;
    }
  }
  for (i = 0; i < n; i++) {
    PyObject *o = items[i];
    char code = codes[i + 2];
    wide[i] = NULL;
    done = i + 1;
    if (code == 'X') { /* an aggregate: the address of its bytes */
      if (!strict || !PyLong_Check(o)) {
        if (!strict)
          result = Py_NewRef(Py_NotImplemented);
        else
          weft_py_ffi_type_error((int)i, code, o);
        goto out;
      }
      ptrs[i] = PyLong_AsVoidPtr(o);
      if (ptrs[i] == NULL) {
        if (!PyErr_Occurred())
          PyErr_SetString(PyExc_ValueError, "NULL address of an aggregate");
        goto out;
      }
      continue;
    }
    if ((mode & WEFT_PY_FFI_EXACT) && !weft_py_ffi_exact(code, o)) {
      result = Py_NewRef(Py_NotImplemented);
      goto out;
    }
    int rc =
        weft_py_ffi_from_python(code, o, &slots[i], strict, (int)i, &wide[i]);
    if (rc == WEFT_PY_FFI_DECLINE)
      result = Py_NewRef(Py_NotImplemented);
    if (rc != WEFT_PY_FFI_OK)
      goto out;
    ptrs[i] = &slots[i];
  }
  weft_py_ffi_slot ret;
  void *retp = &ret;
  char rcode = codes[0];
  if (rcode == 'v') {
    retp = NULL;
  } else if (rcode == 'X') {
    if (retobj == NULL || (retp = PyLong_AsVoidPtr(retobj)) == NULL) {
      if (!PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError,
                        "an aggregate result needs its address");
      goto out;
    }
  }
  weft_status st;
  if (mode & WEFT_PY_FFI_RELEASE) {
    PyThreadState *ts = PyEval_SaveThread();
    st = weft_ffi_call(fn, retp, n ? ptrs : stack_ptrs);
    PyEval_RestoreThread(ts);
  } else {
    st = weft_ffi_call(fn, retp, n ? ptrs : stack_ptrs);
  }
  if (st < 0)
    weft_py_raise(st);
  else if (rcode == 'X')
    result = Py_NewRef(Py_None);
  else
    result = weft_py_ffi_to_python(rcode, &ret);
out:
  for (i = 0; i < done; i++)
    if (wide[i] != NULL)
      PyMem_Free(wide[i]);
  if (slots != stack_slots) {
    PyMem_Free(slots);
    PyMem_Free(ptrs);
    PyMem_Free(wide);
  }
  return result;
}

static PyObject *weft_py_ffi_call(PyObject *self, PyObject *const *a,
                                  Py_ssize_t na) {
  (void)self;
  if (na < 3 || na > 4 || !PyBytes_Check(a[1]) || !PyTuple_Check(a[2]) ||
      PyBytes_GET_SIZE(a[1]) < 2) {
    PyErr_SetString(PyExc_TypeError,
                    "ffi_call_py(fn, codes: bytes, args: tuple[, ret])");
    return NULL;
  }
  weft_handle fn = PyLong_AsLongLong(a[0]);
  if (fn == -1 && PyErr_Occurred())
    return NULL;
  return weft_py_ffi_call_args(fn, a[1], &PyTuple_GET_ITEM(a[2], 0),
                               PyTuple_GET_SIZE(a[2]), na > 3 ? a[3] : NULL);
}

/* weft.ctypes' classes, as ffi_setup gives them (NULL before): _CData
 * and CFuncPtr, with the offsets of the slots of their __slots__
 * _b_addr_, _b_buf_, _b_base_, _objects (the same in every subclass),
 * read and written here without an attribute lookup. */
enum { WEFT_PY_SLOT_ADDR, WEFT_PY_SLOT_BUF, WEFT_PY_SLOT_BASE, WEFT_PY_SLOTS };
static const char *const weft_py_slot_names[WEFT_PY_SLOTS + 1] = {
    "_b_addr_", "_b_buf_", "_b_base_", "_objects"};
static PyTypeObject *weft_py_cdata_type, *weft_py_funcptr_type;
static Py_ssize_t weft_py_cdata_slots[WEFT_PY_SLOTS + 1];
static Py_ssize_t weft_py_funcptr_slots[WEFT_PY_SLOTS + 1];
static PyObject *weft_py_pointer_slow; /* _Pointer._getitem */
static PyObject *weft_py_wthrough;     /* "_wthrough_", interned */

/* The offsets of cls's slots (its own __dict__'s member descriptors). */
static int weft_py_slot_offsets(PyTypeObject *cls, Py_ssize_t *offsets) {
  for (int k = 0; k <= WEFT_PY_SLOTS; k++) {
    PyObject *d = PyDict_GetItemString(cls->tp_dict, weft_py_slot_names[k]);
    if (d == NULL || !PyObject_TypeCheck(d, &PyMemberDescr_Type) ||
        ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
      PyErr_Format(PyExc_TypeError, "%.200s has no slot %s", cls->tp_name,
                   weft_py_slot_names[k]);
      return -1;
    }
    offsets[k] = ((PyMemberDescrObject *)d)->d_member->offset;
  }
  return 0;
}

/* The slot k of o (borrowed; NULL, no exception, if o is not a weft.ctypes
 * object or the slot is unset). */
static PyObject *weft_py_slot(PyObject *o, int k) {
  const Py_ssize_t *offsets;
  if (weft_py_cdata_type != NULL && PyObject_TypeCheck(o, weft_py_cdata_type))
    offsets = weft_py_cdata_slots;
  else if (weft_py_funcptr_type != NULL &&
           PyObject_TypeCheck(o, weft_py_funcptr_type))
    offsets = weft_py_funcptr_slots;
  else
    return NULL;
  return *(PyObject **)((char *)o + offsets[k]);
}

/* FuncBase: the base of weft.ctypes' function objects (CFuncPtr), so
 * that calling one goes straight here (tp_call) without a Python frame:
 * the prepared function _h, its code string _fast and the conversion of
 * its result _post (set by CFuncPtr._prepare, which runs first when _fast
 * is None).  A call the codes decline looks for a plan in _cplans, by its
 * arguments' classes: {(class, ...): (h, codes, kinds)}, the plans of
 * CFuncPtr._plan that C can carry out (kinds: one byte per argument, as
 * WEFT_PY_PLAN_* below).  Without one it goes to _call_converted(args),
 * which makes plans.  The plan found last is kept with its key and the
 * dict it was found in (while _cplans is that dict, the same key finds
 * the same plan: weft.ctypes only ever adds to a dict, or replaces it). */
typedef struct {
  PyObject_HEAD long long handle;
  PyObject *fast;
  PyObject *post;
  PyObject *cplans;
  PyObject *last_dict, *last_key, *last_plan;
} weft_py_fn;

/* How a plan passes each argument: as it is; an int with no argtype
 * (refused beyond 64 bits: _call_converted raises the ArgumentError); an
 * array or a struct, its _b_addr_; a pointer (POINTER(T), c_char_p,
 * c_void_p, a function), the address it holds; and (the code letter
 * itself) a plain fundamental of one of the codes b B h H i I l q f d g,
 * its value. */
enum {
  WEFT_PY_PLAN_AS_IS = '0',
  WEFT_PY_PLAN_INT = '2',
  WEFT_PY_PLAN_ADDRESS = '4',
  WEFT_PY_PLAN_POINTER = '5'
};

/* Call through the plan for args' classes: the result (after _post), NULL
 * and an exception, or NotImplemented (no plan, or one of C's checks
 * failed: _call_converted does it all, in Python). */
static PyObject *weft_py_fn_planned(weft_py_fn *self, PyObject *args) {
  PyObject *plans = self->cplans, *plan = NULL, *key;
  Py_ssize_t n = PyTuple_GET_SIZE(args), i;
  if (plans == NULL || !PyDict_CheckExact(plans))
    Py_RETURN_NOTIMPLEMENTED;
  if (self->last_dict == plans && PyTuple_GET_SIZE(self->last_key) == n) {
    for (i = 0; i < n; i++)
      if ((PyObject *)Py_TYPE(PyTuple_GET_ITEM(args, i)) !=
          PyTuple_GET_ITEM(self->last_key, i))
        break;
    if (i == n)
      plan = self->last_plan;
  }
  if (plan == NULL) {
    if ((key = PyTuple_New(n)) == NULL)
      return NULL;
    for (i = 0; i < n; i++)
      PyTuple_SET_ITEM(
          key, i, Py_NewRef((PyObject *)Py_TYPE(PyTuple_GET_ITEM(args, i))));
    /* the lookup may run Python code (a metaclass's __eq__), which may
     * replace _cplans: both are held while it runs */
    plans = Py_NewRef(plans);
    plan = PyDict_GetItemWithError(plans, key);
    if (plan == NULL || !PyTuple_CheckExact(plan) ||
        PyTuple_GET_SIZE(plan) != 3 ||
        !PyBytes_CheckExact(PyTuple_GET_ITEM(plan, 1)) ||
        !PyBytes_CheckExact(PyTuple_GET_ITEM(plan, 2)) ||
        PyBytes_GET_SIZE(PyTuple_GET_ITEM(plan, 1)) != n + 2 ||
        PyBytes_GET_SIZE(PyTuple_GET_ITEM(plan, 2)) != n) {
      Py_DECREF(key);
      Py_DECREF(plans);
      if (PyErr_Occurred())
        return NULL;
      Py_RETURN_NOTIMPLEMENTED;
    }
    plan = Py_NewRef(plan);
    Py_XSETREF(self->last_plan, Py_NewRef(plan));
    Py_XSETREF(self->last_key, key);
    Py_XSETREF(self->last_dict, plans);
  } else {
    plan = Py_NewRef(plan); /* a conversion below may run Python code */
  }
  weft_handle h = PyLong_AsLongLong(PyTuple_GET_ITEM(plan, 0));
  PyObject *codes = PyTuple_GET_ITEM(plan, 1);
  const char *kinds = PyBytes_AS_STRING(PyTuple_GET_ITEM(plan, 2));
  PyObject *stack[WEFT_PY_FFI_STACK], *result = NULL;
  PyObject **items =
      n > WEFT_PY_FFI_STACK ? PyMem_Malloc((size_t)n * sizeof *items) : stack;
  Py_ssize_t done = 0;
  if (h == -1 && PyErr_Occurred())
    goto out;
  if (items == NULL) {
    PyErr_NoMemory();
    goto out;
  }
  for (i = 0; i < n; i++) {
    PyObject *o = PyTuple_GET_ITEM(args, i), *a;
    int overflow = 0;
    switch (kinds[i]) {
    case WEFT_PY_PLAN_AS_IS:
      items[i] = Py_NewRef(o);
      break;
    case WEFT_PY_PLAN_INT:
      (void)PyLong_AsLongLongAndOverflow(o, &overflow);
      if (overflow > 0 &&
          PyLong_AsUnsignedLongLong(o) == (unsigned long long)-1 &&
          PyErr_Occurred())
        overflow = -1;
      if (overflow < 0 || PyErr_Occurred()) {
        PyErr_Clear();
        result = Py_NewRef(Py_NotImplemented);
        goto out;
      }
      items[i] = Py_NewRef(o);
      break;
    case WEFT_PY_PLAN_ADDRESS:
    case WEFT_PY_PLAN_POINTER:
      if ((a = weft_py_slot(o, WEFT_PY_SLOT_ADDR)) == NULL ||
          !PyLong_Check(a)) {
        result = Py_NewRef(Py_NotImplemented);
        goto out;
      }
      if (kinds[i] == WEFT_PY_PLAN_ADDRESS) {
        items[i] = Py_NewRef(a);
        break;
      }
      int64_t v;
      void *at = PyLong_AsVoidPtr(a);
      weft_status st;
      if (at == NULL && PyErr_Occurred())
        goto out;
      if ((st = weft_ffi_read_int(at, 0, 'P', &v)) < 0) {
        weft_py_raise(st);
        goto out;
      }
      if ((items[i] = PyLong_FromUnsignedLongLong((uint64_t)v)) == NULL)
        goto out;
      break;
    default:
      if (kinds[i] != '\0' && strchr("bBhHiIlqfdg", kinds[i]) != NULL) {
        if ((a = weft_py_slot(o, WEFT_PY_SLOT_ADDR)) == NULL ||
            !PyLong_Check(a)) {
          result = Py_NewRef(Py_NotImplemented);
          goto out;
        }
        void *at = PyLong_AsVoidPtr(a);
        if (at == NULL && PyErr_Occurred())
          goto out;
        weft_status st;
        if (strchr("fdg", kinds[i]) != NULL) {
          double d;
          if ((st = weft_ffi_read_double(at, 0, kinds[i], &d)) < 0) {
            weft_py_raise(st);
            goto out;
          }
          items[i] = PyFloat_FromDouble(d);
        } else {
          int64_t v;
          if ((st = weft_ffi_read_int(at, 0, kinds[i], &v)) < 0) {
            weft_py_raise(st);
            goto out;
          }
          items[i] = PyLong_FromLongLong(v);
        }
        if (items[i] == NULL)
          goto out;
        break;
      }
      PyErr_Format(PyExc_SystemError, "bad plan kind '%c'", kinds[i]);
      goto out;
    }
    done = i + 1;
  }
  result = weft_py_ffi_call_args(h, codes, items, n, NULL);
  if (result != NULL && self->post != NULL && self->post != Py_None) {
    PyObject *post = Py_NewRef(self->post);
    PyObject *v = PyObject_CallFunctionObjArgs(post, result, args, NULL);
    Py_DECREF(post);
    Py_DECREF(result);
    result = v;
  }
out:
  for (i = 0; i < done; i++)
    Py_DECREF(items[i]);
  if (items != stack)
    PyMem_Free(items);
  Py_DECREF(plan);
  return result;
}

static PyObject *weft_py_fn_call(PyObject *op, PyObject *args, PyObject *kw) {
  weft_py_fn *self = (weft_py_fn *)op;
  if (kw != NULL && PyDict_GET_SIZE(kw) != 0) {
    PyErr_SetString(PyExc_TypeError, "C functions take no keyword arguments");
    return NULL;
  }
  if (self->fast == NULL || !PyBytes_Check(self->fast)) {
    PyObject *r = PyObject_CallMethod(op, "_prepare", NULL);
    if (r == NULL)
      return NULL;
    Py_DECREF(r);
    if (self->fast == NULL || !PyBytes_Check(self->fast) ||
        PyBytes_GET_SIZE(self->fast) < 2) {
      PyErr_SetString(PyExc_SystemError, "_prepare left no code string");
      return NULL;
    }
  }
  PyObject *codes = Py_NewRef(self->fast); /* argtypes may change meanwhile */
  PyObject *r =
      weft_py_ffi_call_args(self->handle, codes, &PyTuple_GET_ITEM(args, 0),
                            PyTuple_GET_SIZE(args), NULL);
  Py_DECREF(codes);
  if (r == Py_NotImplemented) {
    Py_DECREF(r);
    r = weft_py_fn_planned(self, args);
    if (r != Py_NotImplemented)
      return r;
    Py_DECREF(r);
    return PyObject_CallMethod(op, "_call_converted", "(O)", args);
  }
  if (r != NULL && self->post != NULL && self->post != Py_None) {
    PyObject *post = Py_NewRef(self->post);
    PyObject *v = PyObject_CallFunctionObjArgs(post, r, args, NULL);
    Py_DECREF(post);
    Py_DECREF(r);
    r = v;
  }
  return r;
}

static int weft_py_fn_traverse(PyObject *op, visitproc visit, void *arg) {
  weft_py_fn *self = (weft_py_fn *)op;
  Py_VISIT(self->fast);
  Py_VISIT(self->post);
  Py_VISIT(self->cplans);
  Py_VISIT(self->last_dict);
  Py_VISIT(self->last_key);
  Py_VISIT(self->last_plan);
  return 0;
}

static int weft_py_fn_clear(PyObject *op) {
  weft_py_fn *self = (weft_py_fn *)op;
  Py_CLEAR(self->fast);
  Py_CLEAR(self->post);
  Py_CLEAR(self->cplans);
  Py_CLEAR(self->last_dict);
  Py_CLEAR(self->last_key);
  Py_CLEAR(self->last_plan);
  return 0;
}

static void weft_py_fn_dealloc(PyObject *op) {
  PyObject_GC_UnTrack(op);
  weft_py_fn_clear(op);
  Py_TYPE(op)->tp_free(op);
}

static PyMemberDef weft_py_fn_members[] = {
    {"_h", T_LONGLONG, offsetof(weft_py_fn, handle), 0,
     "the prepared weft function (0: none)"},
    {"_fast", T_OBJECT, offsetof(weft_py_fn, fast), 0,
     "the call's code string (None: prepare first)"},
    {"_post", T_OBJECT, offsetof(weft_py_fn, post), 0,
     "post(result, args), or None"},
    {"_cplans", T_OBJECT, offsetof(weft_py_fn, cplans), 0,
     "{argument classes: (h, codes, kinds)}: the plans C carries out"},
    {NULL, 0, 0, 0, NULL}};

static PyTypeObject weft_py_fn_type = {PyVarObject_HEAD_INIT(NULL, 0)};

static int weft_py_fn_type_ready(void) {
  PyTypeObject *t = &weft_py_fn_type;
  t->tp_name = "weft._weft_swig.FuncBase";
  t->tp_basicsize = sizeof(weft_py_fn);
  t->tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC;
  t->tp_doc = "The C base of weft.ctypes' function objects.";
  t->tp_call = weft_py_fn_call;
  t->tp_traverse = weft_py_fn_traverse;
  t->tp_clear = weft_py_fn_clear;
  t->tp_dealloc = weft_py_fn_dealloc;
  t->tp_members = weft_py_fn_members;
  t->tp_new = PyType_GenericNew;
  return PyType_Ready(t);
}

/* A weft.ctypes object of class cls over the memory at address (what
 * cls._view(address, None) makes): its _b_addr_, and None for its
 * _b_buf_, _b_base_ and _objects. */
static PyObject *weft_py_ffi_view(PyTypeObject *cls, PyObject *address) {
  if (weft_py_cdata_type != NULL && PyType_IsSubtype(cls, weft_py_cdata_type)) {
    PyObject *obj = cls->tp_alloc(cls, 0);
    if (obj == NULL)
      return NULL;
    for (int k = 0; k <= WEFT_PY_SLOTS; k++) {
      PyObject **slot = (PyObject **)((char *)obj + weft_py_cdata_slots[k]);
      Py_XSETREF(*slot, Py_NewRef(k == 0 ? address : Py_None));
    }
    return obj;
  }
  static PyObject *names[4];
  static const char *const spelled[4] = {"_b_addr_", "_b_buf_", "_b_base_",
                                         "_objects"};
  for (int k = 0; k < 4; k++)
    if (names[k] == NULL &&
        (names[k] = PyUnicode_InternFromString(spelled[k])) == NULL)
      return NULL;
  PyObject *obj = cls->tp_alloc(cls, 0);
  if (obj == NULL)
    return NULL;
  for (int k = 0; k < 4; k++) {
    if (PyObject_SetAttr(obj, names[k], k == 0 ? address : Py_None) < 0) {
      Py_DECREF(obj);
      return NULL;
    }
  }
  return obj;
}

/* Can a view that a callback's callable was given and did not keep (its
 * reference count is 1) serve the closure's next call?  If nothing else
 * can reach it (no weak reference) and its other slots are None again,
 * as a new view's are: a pointer's contents set by the callable are
 * dropped here, as they would be with the view. */
static int weft_py_ffi_reusable(PyObject *o) {
  PyTypeObject *t = Py_TYPE(o);
  if (Py_REFCNT(o) != 1 || weft_py_cdata_type == NULL ||
      !PyType_IsSubtype(t, weft_py_cdata_type) || t->tp_dictoffset != 0 ||
      (t->tp_weaklistoffset > 0 &&
       *(PyObject **)((char *)o + t->tp_weaklistoffset) != NULL))
    return 0;
  for (int k = WEFT_PY_SLOT_BUF; k <= WEFT_PY_SLOTS; k++) {
    PyObject **slot = (PyObject **)((char *)o + weft_py_cdata_slots[k]);
    if (*slot != Py_None)
      Py_XSETREF(*slot, Py_NewRef(Py_None));
  }
  return Py_REFCNT(o) == 1; /* a dropped value's __del__ may have kept it */
}

/* A closure's handler for weft.ctypes: the cell is (callable, codes,
 * retsize) or (callable, codes, retsize, convs, after, rconv, spare); C's
 * arguments become Python values by codes[1:] (then convs[i](value) where
 * convs[i] is not None, or a view of class convs[i] over the address
 * where it is a class), the callable's result (through rconv, if not
 * None) the C result by codes[0] (an X result from a bytes-like object of
 * retsize bytes).  An argument still referenced once the callable has
 * returned is given to after[i], if not None (a pointer over C's memory
 * then takes memory of its own); one that is not is kept in spare[i] for
 * the next call, which sets its address (weft_py_ffi_reusable: nothing
 * can tell it from a new view).  It runs on whatever thread C calls
 * from, taking the GIL (weft_py_enter).  An exception, in the callable
 * or in converting, goes to sys.unraisablehook and the result stays
 * zero, as in ctypes. */
static void weft_py_ffi_closure_handler(void *arg, void *ret, void **args) {
  PyGILState_STATE gs;
  if (!weft_py_enter(&gs))
    return;
  PyObject *cell = weft_py_cell_get(arg);
  if (cell == NULL) {
    PyGILState_Release(gs);
    return;
  }
  PyObject *fn = PyTuple_GET_ITEM(cell, 0);
  const char *codes = PyBytes_AS_STRING(PyTuple_GET_ITEM(cell, 1));
  Py_ssize_t n = PyBytes_GET_SIZE(PyTuple_GET_ITEM(cell, 1)) - 1, i;
  size_t retsize = PyLong_AsSize_t(PyTuple_GET_ITEM(cell, 2));
  int parts = PyTuple_GET_SIZE(cell) == 7;
  PyObject *convs = parts ? PyTuple_GET_ITEM(cell, 3) : Py_None;
  PyObject *after = parts ? PyTuple_GET_ITEM(cell, 4) : Py_None;
  PyObject *rconv = parts ? PyTuple_GET_ITEM(cell, 5) : Py_None;
  PyObject *spare = parts ? PyTuple_GET_ITEM(cell, 6) : NULL;
  PyObject *stack[WEFT_PY_FFI_STACK];
  PyObject **values =
      n > WEFT_PY_FFI_STACK ? PyMem_Malloc((size_t)n * sizeof *values) : stack;
  PyObject *r = NULL;
  if (values == NULL) {
    PyErr_NoMemory();
    n = 0;
  }
  for (i = 0; values != NULL && i < n; i++) {
    PyObject *v = weft_py_ffi_to_python(codes[i + 1], args[i]);
    PyObject *conv = convs != Py_None ? PyTuple_GET_ITEM(convs, i) : Py_None;
    if (v != NULL && conv != Py_None) {
      PyObject *c = NULL;
      if (PyType_Check(conv) && spare != NULL &&
          (c = PyList_GET_ITEM(spare, i)) != Py_None) {
        /* the view an earlier call left: ours alone (the list's ref) */
        PyList_SET_ITEM(spare, i, Py_NewRef(Py_None));
        PyObject **slot =
            (PyObject **)((char *)c + weft_py_cdata_slots[WEFT_PY_SLOT_ADDR]);
        Py_XSETREF(*slot, v);
        values[i] = c;
        continue;
      }
      c = PyType_Check(conv) ? weft_py_ffi_view((PyTypeObject *)conv, v)
                             : PyObject_CallOneArg(conv, v);
      Py_DECREF(v);
      v = c;
    }
    if ((values[i] = v) == NULL)
      break;
  }
  if (values != NULL && i == n) {
    r = PyObject_Vectorcall(fn, values, (size_t)n, NULL);
    for (Py_ssize_t k = 0; after != Py_None && k < n; k++) {
      PyObject *f = PyTuple_GET_ITEM(after, k);
      if (f != Py_None && Py_REFCNT(values[k]) > 1) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        PyObject *d = PyObject_CallOneArg(f, values[k]);
        if (d == NULL)
          PyErr_WriteUnraisable(f);
        Py_XDECREF(d);
        PyErr_Restore(et, ev, tb);
      } else if (f != Py_None && spare != NULL &&
                 weft_py_ffi_reusable(values[k]) &&
                 PyList_GET_ITEM(spare, k) == Py_None) {
        /* nothing kept it: the next call reuses it (as a new view) */
        PyList_SET_ITEM(spare, k, values[k]);
        Py_DECREF(Py_None);
        values[k] = NULL;
      }
    }
  }
  if (r != NULL && rconv != Py_None) {
    PyObject *c = PyObject_CallOneArg(rconv, r);
    Py_DECREF(r);
    r = c;
  }
  if (r == NULL) {
    PyErr_WriteUnraisable(fn);
  } else if (ret != NULL && codes[0] != 'v') {
    if (codes[0] == 'X') {
      Py_buffer view;
      if (PyObject_GetBuffer(r, &view, PyBUF_SIMPLE) == 0) {
        memcpy(ret, view.buf,
               (size_t)view.len < retsize ? (size_t)view.len : retsize);
        PyBuffer_Release(&view);
      } else {
        PyErr_WriteUnraisable(fn);
      }
    } else if (!(r == Py_None && strchr("zZP*", codes[0]) == NULL) &&
               weft_py_ffi_from_python(codes[0], r, ret, 1, -1, NULL) !=
                   WEFT_PY_FFI_OK) {
      PyErr_WriteUnraisable(fn);
    }
  }
  Py_XDECREF(r);
  while (i-- > 0)
    Py_XDECREF(values[i]);
  if (values != stack)
    PyMem_Free(values);
  Py_DECREF(cell);
  PyGILState_Release(gs);
}

/* A closure's spare views: a list of n Nones (or NULL, an error set). */
static PyObject *weft_py_ffi_spares(Py_ssize_t n) {
  PyObject *l = PyList_New(n);
  for (Py_ssize_t i = 0; l != NULL && i < n; i++)
    PyList_SET_ITEM(l, i, Py_NewRef(Py_None));
  return l;
}

/* ffi_closure_new_py(signature, callable, codes, retsize[, convs, after,
 * rconv]): a closure of the signature function whose calls run callable
 * (weft_py_ffi_closure_handler); (closure handle, cell).  The cell stays
 * registered until forget(cell), after the closure is closed. */
static PyObject *weft_py_ffi_closure_new(PyObject *self, PyObject *args) {
  (void)self;
  long long sig;
  PyObject *fn, *codes, *convs = Py_None, *after = Py_None, *rconv = Py_None;
  Py_ssize_t retsize;
  if (!PyArg_ParseTuple(args, "LOO!n|OOO:ffi_closure_new_py", &sig, &fn,
                        &PyBytes_Type, &codes, &retsize, &convs, &after,
                        &rconv))
    return NULL;
  Py_ssize_t n = PyBytes_GET_SIZE(codes) - 1;
  if (n < 0) {
    PyErr_SetString(PyExc_ValueError, "codes: at least the result's");
    return NULL;
  }
  if (!PyCallable_Check(fn)) {
    PyErr_Format(PyExc_TypeError, "expected a callable, not %.200s",
                 Py_TYPE(fn)->tp_name);
    return NULL;
  }
  if ((convs != Py_None &&
       (!PyTuple_Check(convs) || PyTuple_GET_SIZE(convs) != n)) ||
      (after != Py_None &&
       (!PyTuple_Check(after) || PyTuple_GET_SIZE(after) != n))) {
    PyErr_SetString(PyExc_TypeError,
                    "convs and after: None or a tuple, one per argument");
    return NULL;
  }
  size_t nargs = 0, nfixed = 0;
  weft_status st0 = weft_ffi_function_arg_count(sig, &nargs, &nfixed);
  if (st0 < 0) {
    weft_py_raise(st0);
    return NULL;
  }
  if ((size_t)n != nargs) { /* the handler reads one value per code */
    PyErr_Format(PyExc_ValueError,
                 "codes: %zd argument codes for a signature of %zu", n, nargs);
    return NULL;
  }
  int parts = convs != Py_None || after != Py_None || rconv != Py_None;
  PyObject *cell = parts ? Py_BuildValue("(OOnOOON)", fn, codes, retsize, convs,
                                         after, rconv, weft_py_ffi_spares(n))
                         : Py_BuildValue("(OOn)", fn, codes, retsize);
  if (cell == NULL)
    return NULL;
  /* registered before the closure exists: C can call it at once */
  if (weft_py_cell_put(cell) < 0) {
    Py_DECREF(cell);
    return NULL;
  }
  weft_handle h = 0;
  weft_status st =
      weft_ffi_closure_new(sig, weft_py_ffi_closure_handler, cell, &h);
  if (st < 0) {
    Py_XDECREF(weft_py_cell_drop(cell));
    Py_DECREF(cell);
    weft_py_raise(st);
    return NULL;
  }
  return Py_BuildValue("(LN)", (long long)h, cell);
}

static PyObject *weft_py_read_through(void *address, Py_ssize_t offset,
                                      long code);

/* ffi_read_through(address, offset, code): the scalar of ctypes code at
 * offset from the pointer stored at address (p[i] of a POINTER(T) of a
 * fundamental), through weft_ffi_read_int / read_double; ValueError for
 * a NULL pointer. */
static PyObject *weft_py_ffi_read_through(PyObject *self, PyObject *const *a,
                                          Py_ssize_t na) {
  (void)self;
  if (na != 3) {
    PyErr_SetString(PyExc_TypeError, "ffi_read_through(address, offset, code)");
    return NULL;
  }
  void *address = PyLong_AsVoidPtr(a[0]);
  Py_ssize_t offset = PyLong_AsSsize_t(a[1]);
  long code = PyLong_AsLong(a[2]);
  if (PyErr_Occurred())
    return NULL;
  return weft_py_read_through(address, offset, code);
}

static PyObject *weft_py_read_through(void *address, Py_ssize_t offset,
                                      long code) {
  int64_t p;
  weft_status st = weft_ffi_read_int(address, 0, 'P', &p);
  if (st < 0) {
    weft_py_raise(st);
    return NULL;
  }
  if (p == 0) {
    PyErr_SetString(PyExc_ValueError, "NULL pointer access");
    return NULL;
  }
  void *at = (char *)(intptr_t)p + offset;
  if (code == 'f' || code == 'd' || code == 'g') {
    double d;
    if ((st = weft_ffi_read_double(at, 0, (int)code, &d)) < 0) {
      weft_py_raise(st);
      return NULL;
    }
    return PyFloat_FromDouble(d);
  }
  int64_t v;
  if ((st = weft_ffi_read_int(at, 0, (int)code, &v)) < 0) {
    weft_py_raise(st);
    return NULL;
  }
  return PyLong_FromLongLong(v);
}

/* _Pointer.__getitem__ on the SWIG backend (a method descriptor of
 * _Pointer, made by ffi_setup): p[i] of an int i when p's class (a
 * POINTER(T) of a plain fundamental) has _wthrough_ = T's code + 256 *
 * T's size in its own __dict__, read through as ffi_read_through does;
 * anything else is _Pointer._getitem(p, index), Python's. */
static PyObject *weft_py_pointer_getitem(PyObject *self, PyObject *index) {
  PyObject *info = NULL, *addr;
  if (PyLong_CheckExact(index) && Py_TYPE(self)->tp_dict != NULL &&
      (info = PyDict_GetItemWithError(Py_TYPE(self)->tp_dict,
                                      weft_py_wthrough)) != NULL &&
      PyLong_CheckExact(info) &&
      (addr = weft_py_slot(self, WEFT_PY_SLOT_ADDR)) != NULL &&
      PyLong_Check(addr)) {
    long spec = PyLong_AsLong(info);
    int overflow = 0;
    long long i = PyLong_AsLongLongAndOverflow(index, &overflow);
    long size = spec >> 8;
    void *address = PyLong_AsVoidPtr(addr);
    if (overflow == 0 && spec > 0 && !PyErr_Occurred() &&
        i > -(PY_SSIZE_T_MAX / 64) && i < PY_SSIZE_T_MAX / 64)
      return weft_py_read_through(address, (Py_ssize_t)(i * size), spec & 0xff);
    PyErr_Clear();
  }
  if (PyErr_Occurred())
    return NULL;
  PyObject *a[2] = {self, index};
  return PyObject_Vectorcall(weft_py_pointer_slow, a, 2, NULL);
}

/* ffi_pointer_class(cls): p[i] of a POINTER(T) class with _wthrough_
 * goes straight to weft_py_pointer_getitem (its mapping slot, without
 * the lookup of __getitem__); assigning __getitem__ to the class later
 * sets the slot again, as always. */
static PyObject *weft_py_ffi_pointer_class(PyObject *self, PyObject *cls) {
  (void)self;
  PyTypeObject *t = (PyTypeObject *)cls;
  if (!PyType_Check(cls) || !(t->tp_flags & Py_TPFLAGS_HEAPTYPE) ||
      weft_py_cdata_type == NULL || !PyType_IsSubtype(t, weft_py_cdata_type) ||
      t->tp_as_mapping != &((PyHeapTypeObject *)t)->as_mapping) {
    PyErr_SetString(PyExc_TypeError,
                    "ffi_pointer_class(cls): a weft.ctypes pointer class");
    return NULL;
  }
  t->tp_as_mapping->mp_subscript = weft_py_pointer_getitem;
  Py_RETURN_NONE;
}

static PyMethodDef weft_py_pointer_getitem_def = {
    "__getitem__", weft_py_pointer_getitem, METH_O,
    "p[i]: the element i of what p points to"};

/* ffi_setup(_CData, CFuncPtr, _Pointer, _Pointer._getitem): weft.ctypes'
 * classes, whose slots the C here reads and writes directly (views, the
 * call plans); returns _Pointer's __getitem__ (weft_py_pointer_getitem),
 * which weft.ctypes installs. */
static PyObject *weft_py_ffi_setup(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cdata, *funcptr, *pointer, *slow;
  Py_ssize_t cslots[WEFT_PY_SLOTS + 1], fslots[WEFT_PY_SLOTS + 1];
  if (!PyArg_ParseTuple(args, "O!O!O!O:ffi_setup", &PyType_Type, &cdata,
                        &PyType_Type, &funcptr, &PyType_Type, &pointer, &slow))
    return NULL;
  if (!PyType_IsSubtype((PyTypeObject *)pointer, (PyTypeObject *)cdata) ||
      !PyCallable_Check(slow)) {
    PyErr_SetString(PyExc_TypeError,
                    "ffi_setup(_CData, CFuncPtr, _Pointer, _Pointer._getitem)");
    return NULL;
  }
  if (weft_py_slot_offsets((PyTypeObject *)cdata, cslots) < 0 ||
      weft_py_slot_offsets((PyTypeObject *)funcptr, fslots) < 0)
    return NULL;
  if (weft_py_wthrough == NULL &&
      (weft_py_wthrough = PyUnicode_InternFromString("_wthrough_")) == NULL)
    return NULL;
  memcpy(weft_py_cdata_slots, cslots, sizeof cslots);
  memcpy(weft_py_funcptr_slots, fslots, sizeof fslots);
  Py_XSETREF(weft_py_cdata_type, (PyTypeObject *)Py_NewRef(cdata));
  Py_XSETREF(weft_py_funcptr_type, (PyTypeObject *)Py_NewRef(funcptr));
  Py_XSETREF(weft_py_pointer_slow, Py_NewRef(slow));
  return PyDescr_NewMethod((PyTypeObject *)pointer,
                           &weft_py_pointer_getitem_def);
}

/* ffi_buffer_address(obj): the address of a bytes-like object's bytes
 * (good while obj lives and is not resized). */
static PyObject *weft_py_ffi_buffer_address(PyObject *self, PyObject *o) {
  (void)self;
  Py_buffer view;
  if (PyObject_GetBuffer(o, &view, PyBUF_SIMPLE) < 0)
    return NULL;
  PyObject *r = PyLong_FromVoidPtr(view.buf);
  PyBuffer_Release(&view);
  return r;
}

static PyMethodDef weft_py_ffi_methods[] = {
    {"ffi_call_py", (PyCFunction)(void (*)(void))weft_py_ffi_call,
     METH_FASTCALL, "ffi_call_py(fn, codes, args[, ret]): weft.ctypes' call"},
    {"ffi_closure_new_py", weft_py_ffi_closure_new, METH_VARARGS,
     "ffi_closure_new_py(signature, callable, codes, retsize)"},
    {"ffi_read_through", (PyCFunction)(void (*)(void))weft_py_ffi_read_through,
     METH_FASTCALL,
     "ffi_read_through(address, offset, code): *(*address + "
     "offset)"},
    {"ffi_pointer_class", weft_py_ffi_pointer_class, METH_O,
     "ffi_pointer_class(cls): p[i] of cls in C"},
    {"ffi_setup", weft_py_ffi_setup, METH_VARARGS,
     "ffi_setup(_CData, CFuncPtr, _Pointer, _Pointer._getitem): "
     "_Pointer.__getitem__"},
    {"ffi_buffer_address", weft_py_ffi_buffer_address, METH_O,
     "ffi_buffer_address(obj): the address of a buffer's bytes"},
    {NULL, NULL, 0, NULL}};
%}

WEFT_PY_CALLBACK((weft_ffi_handler_fn handler, void *arg),
                 weft_py_ffi_handler)

/* _rules.EXCLUDED: weft.ctypes calls through ffi_call_py. */
%ignore weft_ffi_call;

%init %{
  if (PyModule_AddFunctions(m, weft_py_ffi_methods) < 0 ||
      weft_py_fn_type_ready() < 0)
    return NULL;
  Py_INCREF(&weft_py_fn_type);
  if (PyModule_AddObject(m, "FuncBase", (PyObject *)&weft_py_fn_type) < 0) {
    Py_DECREF(&weft_py_fn_type);
    return NULL;
  }
%}

/* _rules.EXCLUDED: it would end the OS thread under the Python frames
 * that called it. */
%ignore weft_thread_exit;
#endif /* SWIGPYTHON */

/* ------------------------------------------------------------------- Lua */
#ifdef SWIGLUA
/* Lua 5.4: the module "weft.core" (swig -lua -nomoduleglobal -module
 * weft_core, so luaopen_weft_core); bindings/lua/weft.lua is "weft".  The
 * hand-written C (error values, thread targets in fresh states, callbacks
 * run by their owning state) is in bindings/lua/{core,target}.c. */
%{
#include <errno.h>
#include <limits.h>
#include "weftlua.h"
/* Bytes out up to this size use a buffer on the C stack. */
#define WEFTLUA_STACKBUF 8192
%}

%rename("%(strip:[weft_])s") ""; /* core.lock_acquire, ... */

/* Integers are lua_Integer both ways: SWIG's own typemaps go through a
 * double, which loses int64 values (idents, semaphore values).  The
 * luaL_check* calls raise Lua's usual "bad argument" errors. */
%typemap(in) int64_t, uint64_t
  "$1 = ($1_ltype)luaL_checkinteger(L, $input);"
%typemap(in) int, int32_t
  "$1 = ($1_ltype)weftlua_checkrange(L, $input, INT_MIN, INT_MAX);"
%typemap(in) unsigned int, uint32_t
  "$1 = ($1_ltype)weftlua_checkrange(L, $input, 0, UINT_MAX);"
%typemap(in) size_t
  "$1 = ($1_ltype)weftlua_checkrange(L, $input, 0, LUA_MAXINTEGER);"
%typemap(out) int, unsigned int, int32_t, uint32_t, int64_t, uint64_t, size_t
  "lua_pushinteger(L, (lua_Integer)$1); SWIG_arg++;"

/* Python's defaults: Semaphore.release(n=1), Condition.notify(n=1). */
%typemap(default) int64_t n, size_t n "$1 = 1;"

/* Out-parameters are return values, in order. */
%define WEFTLUA_OUT(type)
%typemap(in, numinputs=0) type * (type tmp = 0) "$1 = &tmp;"
%enddef
WEFTLUA_OUT(int)
WEFTLUA_OUT(int64_t)
WEFTLUA_OUT(uint64_t)
WEFTLUA_OUT(size_t)
%typemap(argout) int *, int64_t *, uint64_t *, size_t *
  "lua_pushinteger(L, (lua_Integer)*$1); SWIG_arg++;"
%typemap(argout) int *alive, int *daemon, int *locked, int *owned,
                 int *is_set, int *broken
  "lua_pushboolean(L, *$1); SWIG_arg++;"

/* Output strings and arrays: a small buffer first, a bigger one when the
 * call says WEFT_ERANGE (WEFTLUA_GROW below). */
%typemap(in, numinputs=0) (char *buf, size_t cap, size_t *len)
  (char tmp[64], size_t n = 0) "$1 = tmp; $2 = sizeof tmp; $3 = &n;"
%typemap(argout) (char *buf, size_t cap, size_t *len)
  "lua_pushlstring(L, $1, *$3); SWIG_arg++;"
%apply (char *buf, size_t cap, size_t *len) {
  (char *name, size_t cap, size_t *name_len) };
%typemap(in, numinputs=0) (weft_handle *buf, size_t cap, size_t *n)
  (weft_handle tmp[32], size_t n = 0) "$1 = tmp; $2 = 32; $3 = &n;"
%typemap(argout) (weft_handle *buf, size_t cap, size_t *n) {
  lua_createtable(L, (int)*$3, 0);
  for (size_t i = 0; i < *$3; i++) {
    lua_pushinteger(L, $1[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  SWIG_arg++;
}
%define WEFTLUA_GROW(fn, buf, cap, len)
%exception fn {
  $action
  while (result == WEFT_ERANGE) {
    cap = *len + 1 + *len / 4;
    buf = lua_newuserdatauv(L, cap * sizeof *buf, 0);
    $action
  }
}
%enddef
WEFTLUA_GROW(weft_thread_get_name, arg2, arg3, arg4)
WEFTLUA_GROW(weft_constant_at, arg2, arg3, arg4)
WEFTLUA_GROW(weft_thread_enumerate, arg1, arg2, arg3)

/* A negative status raises the error value (weftlua_raise); success
 * returns the out-parameters only. */
%typemap(out) weft_status "if ($1 < 0) weftlua_raise(L, $1);"
%typemap(out) weft_status weft_last_error_code
  "lua_pushinteger(L, $1); SWIG_arg++;"
/* Python returns False when these time out. */
%typemap(out) weft_status weft_lock_acquire, weft_status weft_rlock_acquire,
              weft_status weft_condition_acquire,
              weft_status weft_semaphore_acquire,
              weft_status weft_condition_wait, weft_status weft_event_wait,
              weft_status weft_thread_join
  "SWIG_arg += weftlua_push_timed(L, $1);"

/* Blocking calls: -EINTR means "run what was queued to this state, then
 * call again with the time left" (core.c). */
%define WEFTLUA_BLOCKING(fn, timeout)
%exception fn {
  weftlua_wait wait_;
  weftlua_wait_begin(&wait_, timeout);
  for (;;) {
    $action
    if (result != -EINTR)
      break;
    timeout = weftlua_wait_again(L, &wait_);
  }
}
%enddef
WEFTLUA_BLOCKING(weft_thread_join, arg2)
WEFTLUA_BLOCKING(weft_thread_shutdown, arg1)
WEFTLUA_BLOCKING(weft_sleep, arg1)
WEFTLUA_BLOCKING(weft_lock_acquire, arg2)
WEFTLUA_BLOCKING(weft_rlock_acquire, arg2)
WEFTLUA_BLOCKING(weft_condition_acquire, arg2)
WEFTLUA_BLOCKING(weft_condition_wait, arg2)
WEFTLUA_BLOCKING(weft_semaphore_acquire, arg2)
WEFTLUA_BLOCKING(weft_event_wait, arg2)
/* barrier_wait also lets a barrier action of this state run while it
 * blocks (weftlua_block_begin).  `retry` sets the timeout of a retry from
 * left_ (wait_default has none: it restarts with the barrier's default). */
%define WEFTLUA_BARRIER(fn, timeout, retry)
%exception fn {
  lua_State *saved_;
  weftlua_owner *owner_ = weftlua_block_begin(L, &saved_);
  weftlua_wait wait_;
  weftlua_wait_begin(&wait_, timeout);
  for (;;) {
    $action
    if (result != -EINTR)
      break;
    weftlua_block_end(owner_, saved_);
    double left_ = weftlua_wait_again(L, &wait_);
    retry;
    owner_ = weftlua_block_begin(L, &saved_);
  }
  weftlua_block_end(owner_, saved_);
}
%enddef
WEFTLUA_BARRIER(weft_barrier_wait, arg2, arg2 = left_)
WEFTLUA_BARRIER(weft_barrier_wait_default, -1, (void)left_)

/* ---- socket, select, io: bytes, addresses, arrays ----
 * bindings/lua/weft/socket.lua is the idiomatic layer over these. */

/* More out-parameters. */
WEFTLUA_OUT(uint32_t)
WEFTLUA_OUT(double)
%typemap(argout) uint32_t * "lua_pushinteger(L, (lua_Integer)*$1); SWIG_arg++;"
%typemap(argout) double * "lua_pushnumber(L, *$1); SWIG_arg++;"
%typemap(argout) int *has, int *blocking, int *readable, int *writable
  "lua_pushboolean(L, *$1); SWIG_arg++;"

/* Bytes in: a Lua string, embedded NULs kept.  Addresses (the platform's
 * struct sockaddr, as made by sockaddr_make), AF_UNIX paths and packed
 * IP addresses are bytes too. */
%typemap(in) (const void *buf, size_t len) (size_t n_ = 0)
  "$1 = ($1_ltype)luaL_checklstring(L, $input, &n_); $2 = n_;"
%apply (const void *buf, size_t len) {
  (const void *addr, size_t addr_len), (const void *host, size_t host_len),
  (const void *packed, size_t len) };

/* Bytes out: the caller gives the size (recv(h, flags, 4096)) and gets a
 * string of what came.  Up to WEFTLUA_STACKBUF bytes go through the C
 * stack, more through a userdata that the collector takes.  A negative
 * size is WEFT_EVALUE. */
%typemap(in) (void *buf, size_t cap, size_t *n)
  (char stack_[WEFTLUA_STACKBUF], size_t n_ = 0) {
  $2 = weftlua_checksize(L, $input, "$symname");
  $1 = $2 <= sizeof stack_ ? (void *)stack_ : lua_newuserdatauv(L, $2, 0);
  $3 = &n_;
}
%typemap(argout) (void *buf, size_t cap, size_t *n)
  "lua_pushlstring(L, (const char *)$1, *$3); SWIG_arg++;"

/* An address out: a string of the sockaddr's bytes (sockaddr_parse reads
 * it).  The buffer always holds WEFT_SOCKADDR_MAX bytes. */
%typemap(in, numinputs=0) (void *addr, size_t addr_cap, size_t *addr_len)
  (char tmp_[WEFT_SOCKADDR_MAX], size_t n_ = 0)
  "$1 = tmp_; $2 = sizeof tmp_; $3 = &n_;"
%typemap(argout) (void *addr, size_t addr_cap, size_t *addr_len)
  "lua_pushlstring(L, (const char *)$1, *$3); SWIG_arg++;"

/* Text out with sizes that always suffice: NI_MAXHOST and NI_MAXSERV
 * (getnameinfo; sockaddr_parse's host is at most a sun_path). */
%typemap(in, numinputs=0) (char *host, size_t host_cap, size_t *host_len)
  (char tmp_[1025], size_t n_ = 0) "$1 = tmp_; $2 = sizeof tmp_; $3 = &n_;"
%typemap(argout) (char *host, size_t host_cap, size_t *host_len)
  "lua_pushlstring(L, $1, *$3); SWIG_arg++;"
%typemap(in, numinputs=0) (char *serv, size_t serv_cap, size_t *serv_len)
  (char tmp_[32], size_t n_ = 0) "$1 = tmp_; $2 = sizeof tmp_; $3 = &n_;"
%typemap(argout) (char *serv, size_t serv_cap, size_t *serv_len)
  "lua_pushlstring(L, $1, *$3); SWIG_arg++;"
%apply (char *buf, size_t cap, size_t *len) {
  (char *buf, size_t cap, size_t *text_len) };

/* select_wait(rlist, wlist, xlist, timeout) -> the ready handles of each
 * (tables of handles in, tables out).  weft rewrites each array in place,
 * its ready handles first; *rn says how many (rlist is arg1, wlist arg3,
 * xlist arg5).  Running out of time is an answer: three empty lists. */
%typemap(in) (weft_handle *rlist, size_t nr)
  "$1 = weftlua_check_handles(L, $input, &$2);"
%typemap(argout) (weft_handle *rlist, size_t nr) ""
%apply (weft_handle *rlist, size_t nr) {
  (weft_handle *wlist, size_t nw), (weft_handle *xlist, size_t nx) };
%typemap(in, numinputs=0) size_t *rn (size_t tmp = 0),
  size_t *wn (size_t tmp = 0), size_t *xn (size_t tmp = 0) "$1 = &tmp;"
%typemap(argout) size_t *rn "weftlua_push_handles(L, arg1, *$1); SWIG_arg++;"
%typemap(argout) size_t *wn "weftlua_push_handles(L, arg3, *$1); SWIG_arg++;"
%typemap(argout) size_t *xn "weftlua_push_handles(L, arg5, *$1); SWIG_arg++;"
%typemap(out) weft_status weft_select_wait
  "if ($1 < 0 && $1 != -ETIMEDOUT) weftlua_raise(L, $1);"

/* poller_poll(h, timeout, max) -> keys, events: two lists, empty when
 * the time ran out.  A max above 65536 is 65536 (the rest come with the
 * next wait, as Ruby's), so the arrays' sizes cannot overflow. */
%typemap(in) (int64_t *keys, uint32_t *events, size_t cap, size_t *n)
  (int64_t keys_[64], uint32_t events_[64], size_t n_ = 0) {
  $3 = weftlua_checksize(L, $input, "$symname");
  if ($3 > 65536)
    $3 = 65536;
  $1 = $3 <= 64 ? keys_ : lua_newuserdatauv(L, $3 * sizeof *$1, 0);
  $2 = $3 <= 64 ? events_ : lua_newuserdatauv(L, $3 * sizeof *$2, 0);
  $4 = &n_;
}
%typemap(argout) (int64_t *keys, uint32_t *events, size_t cap, size_t *n) {
  lua_createtable(L, (int)*$4, 0);
  lua_createtable(L, (int)*$4, 0);
  for (size_t i = 0; i < *$4; i++) {
    lua_pushinteger(L, (lua_Integer)$1[i]);
    lua_rawseti(L, -3, (lua_Integer)i + 1);
    lua_pushinteger(L, (lua_Integer)$2[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  SWIG_arg += 2;
}
%typemap(out) weft_status weft_poller_poll
  "if ($1 < 0 && $1 != -ETIMEDOUT) weftlua_raise(L, $1);"

/* A failed sendall or stream write says how much went: the error value
 * has a field `sent` (sendall's *sent is arg5, stream_write's *written
 * arg4). */
%typemap(out) weft_status weft_socket_sendall
  "if ($1 < 0) weftlua_raise_sent(L, $1, *arg5);"
%typemap(out) weft_status weft_stream_write
  "if ($1 < 0) weftlua_raise_sent(L, $1, *arg4);"

/* Text that may outgrow 64 bytes: WEFT_ERANGE calls again. */
WEFTLUA_GROW(weft_socket_gethostbyname, arg2, arg3, arg4)
WEFTLUA_GROW(weft_socket_gethostbyname_ex, arg2, arg3, arg4)
WEFTLUA_GROW(weft_socket_gethostbyaddr, arg2, arg3, arg4)
WEFTLUA_GROW(weft_socket_gethostname, arg1, arg2, arg3)
WEFTLUA_GROW(weft_socket_getfqdn, arg2, arg3, arg4)
WEFTLUA_GROW(weft_socket_getservbyport, arg3, arg4, arg5)
WEFTLUA_GROW(weft_addrinfo_canonname, arg3, arg4, arg5)

/* Socket and stream calls block without a timeout argument (the socket's
 * or stream's mode says how long): after -EINTR the state runs its queue
 * and calls again, and the call keeps its mode's full timeout. */
%define WEFTLUA_RETRY(fn)
%exception fn {
  weftlua_wait wait_;
  weftlua_wait_begin(&wait_, -1);
  for (;;) {
    $action
    if (result != -EINTR)
      break;
    (void)weftlua_wait_again(L, &wait_);
  }
}
%enddef
WEFTLUA_RETRY(weft_socket_accept)
WEFTLUA_RETRY(weft_socket_connect)   /* waits for the attempt under way */
WEFTLUA_RETRY(weft_socket_connect_ex)
WEFTLUA_RETRY(weft_socket_send)
WEFTLUA_RETRY(weft_socket_sendto)
WEFTLUA_RETRY(weft_socket_recv)
WEFTLUA_RETRY(weft_socket_recvfrom)
WEFTLUA_RETRY(weft_stream_read)      /* a failed read keeps its data */
WEFTLUA_RETRY(weft_stream_read1)
WEFTLUA_RETRY(weft_stream_flush)
WEFTLUA_BLOCKING(weft_socket_create_connection, arg3)
WEFTLUA_BLOCKING(weft_select_wait, arg7)
WEFTLUA_BLOCKING(weft_poller_poll, arg2)

/* sendall and stream_write report what went before -EINTR: the retry
 * sends the rest, and the count is the whole call's. */
%define WEFTLUA_RESUME(fn, buf, len, done)
%exception fn {
  weftlua_wait wait_;
  size_t total_ = 0;
  weftlua_wait_begin(&wait_, -1);
  for (;;) {
    *done = 0; /* a call that fails early (a closed handle) sets nothing */
    $action
    total_ += *done;
    if (result != -EINTR)
      break;
    buf = (void *)((const char *)buf + *done);
    len -= *done;
    (void)weftlua_wait_again(L, &wait_);
  }
  *done = total_;
}
%enddef
WEFTLUA_RESUME(weft_socket_sendall, arg2, arg3, arg5)
WEFTLUA_RESUME(weft_stream_write, arg2, arg3, arg4)

/* readall and readline follow the string rule (WEFT_ERANGE keeps the
 * data buffered; call again with the size it needs) and block. */
%define WEFTLUA_READ_GROW(fn, buf, cap, len)
%exception fn {
  weftlua_wait wait_;
  weftlua_wait_begin(&wait_, -1);
  for (;;) {
    $action
    if (result == WEFT_ERANGE) {
      cap = *len + 1;
      buf = lua_newuserdatauv(L, cap, 0);
      continue;
    }
    if (result != -EINTR)
      break;
    (void)weftlua_wait_again(L, &wait_);
  }
}
%enddef
WEFTLUA_READ_GROW(weft_stream_readall, arg2, arg3, arg4)
WEFTLUA_READ_GROW(weft_stream_readline, arg3, arg4, arg5)

/* ---- signal ----
 * bindings/lua/weft/signal.lua is the idiomatic layer; the handlers
 * themselves (a C handler that sets a hook, as lua.c's SIGINT) are in
 * bindings/lua/signal.c.  pause blocks: a failed handler's error comes out
 * of it (weftlua_wait_again), an interrupt runs the state's queue and
 * pauses again. */
WEFTLUA_OUT(unsigned int)
%typemap(argout) unsigned int *
  "lua_pushinteger(L, (lua_Integer)*$1); SWIG_arg++;"
%typemap(argout) int *valid "lua_pushboolean(L, *$1); SWIG_arg++;"
WEFTLUA_GROW(weft_signal_strsignal, arg2, arg3, arg4)
WEFTLUA_RETRY(weft_signal_pause)
/* The ctypes engine's calls and closures are bindings/lua/ffi.c's. */
%ignore weft_ffi_function_new;
%ignore weft_ffi_call;
%ignore weft_ffi_closure_new;
%ignore weft_signal_set;
%ignore weft_signal_get;
%ignore weft_signal_dispatch;
%ignore weft_signal_set_check; /* CPython's; Lua checks nothing more */
%ignore weft_signal_wait;      /* for a binding's own dispatching thread */
%native(signal_set) int weftlua_signal_set(lua_State *L);
%native(signal_get) int weftlua_signal_get(lua_State *L);
%native(signal_dispatch) int weftlua_signal_dispatch(lua_State *L);
%native(signal_check_main) int weftlua_signal_check_main(lua_State *L);

/* Callbacks and raw pointers have Lua versions of their own (below). */
%ignore weft_thread_new;
%ignore weft_timer_new;
%ignore weft_thread_start_new;
%ignore weft_thread_exit;
%ignore weft_barrier_new;
%ignore weft_thread_hook_new;
%ignore weft_local_new;
%ignore weft_local_set;
%ignore weft_local_get;
%ignore weft_dispatcher_new;
%ignore weft_dispatcher_call;
%ignore weft_dispatcher_run;
%ignore weft_dispatcher_fd;
%native(thread_new) int weftlua_thread_new(lua_State *L);
%native(timer_new) int weftlua_timer_new(lua_State *L);
%native(target_start) int weftlua_target_start(lua_State *L);
%native(target_cancel) int weftlua_target_cancel(lua_State *L);
%native(start_new_thread) int weftlua_start_new_thread(lua_State *L);
%native(thread_exit) int weftlua_thread_exit(lua_State *L);
%native(barrier_new) int weftlua_barrier_new(lua_State *L);
%native(callback_free) int weftlua_callback_free(lua_State *L);
%native(dispatch) int weftlua_dispatch(lua_State *L);
%native(dispatcher_fd) int weftlua_dispatcher_fd(lua_State *L);
%native(error) int weftlua_error_new(lua_State *L);
%native(is_thread_state) int weftlua_is_thread_state(lua_State *L);
%native(anchor_close_token) int weftlua_anchor_close_token(lua_State *L);
%native(method) int weftlua_method(lua_State *L);

%init %{
  /* SWIG's runtime sets two globals; weft.core leaves none. */
  if (lua_getglobal(L, "swig_type") == LUA_TFUNCTION &&
      lua_tocfunction(L, -1) == SWIG_Lua_type) {
    lua_pushnil(L);
    lua_setglobal(L, "swig_type");
  }
  if (lua_getglobal(L, "swig_equals") == LUA_TFUNCTION &&
      lua_tocfunction(L, -1) == SWIG_Lua_class_equal) {
    lua_pushnil(L);
    lua_setglobal(L, "swig_equals");
  }
  lua_pop(L, 2);
  weftlua_init(L);
%}
#endif /* SWIGLUA */

/* ------------------------------------------------------------------ Ruby */
#ifdef SWIGRUBY
/* Weft::Native (swig -ruby -module weft::native): the plain calls, weft_
 * prefix dropped.  bindings/ruby/rbweft.c holds the rest (exceptions,
 * blocking without the GVL, callbacks) and bindings/ruby/weft.rb the
 * idiomatic Weft on top. */
%include <stdint.i>
%{
#include "rbweft.h"
%}
%rename("%(strip:[weft_])s") "";

/* Hand-written in rbweft.c: calls that take a callback or a void * (a
 * Ruby callable must run on a Ruby thread), or fill a caller's buffer. */
/* The ctypes engine's calls and closures are rbffi.c's. */
%ignore weft_ffi_function_new;
%ignore weft_ffi_call;
%ignore weft_ffi_closure_new;
%ignore weft_thread_new;
%ignore weft_thread_adopt;
%ignore weft_thread_get_name;
%ignore weft_thread_enumerate;
%ignore weft_thread_start_new;
%ignore weft_thread_exit;
%ignore weft_thread_hook_new;
%ignore weft_timer_new;
%ignore weft_barrier_new;
%ignore weft_local_new;
%ignore weft_local_set;
%ignore weft_local_get;
%ignore weft_dispatcher_call;
%ignore weft_constant_at;

/* Hand-written in rbsignal.c: the signal calls that take a handler, run
 * handlers (Ruby code: only on a Ruby thread, with the GVL), block, or
 * fill a buffer. */
%ignore weft_signal_set;
%ignore weft_signal_get;
%ignore weft_signal_dispatch;
%ignore weft_signal_set_check;
%ignore weft_signal_wait;
%ignore weft_signal_pause;
%ignore weft_signal_raise;
%ignore weft_signal_strsignal;

/* Hand-written in rbsocket.c: the socket, select and io calls that move
 * bytes (binary Strings, written in place), block (without the GVL,
 * interruptible, resumed after an interrupt), resolve names (without the
 * GVL) or take arrays. */
%ignore weft_sockaddr_make;
%ignore weft_sockaddr_parse;
%ignore weft_socket_bind;
%ignore weft_socket_accept;
%ignore weft_socket_connect;
%ignore weft_socket_connect_ex;
%ignore weft_socket_getsockname;
%ignore weft_socket_getpeername;
%ignore weft_socket_getsockopt_bytes;
%ignore weft_socket_setsockopt_bytes;
%ignore weft_socket_send;
%ignore weft_socket_sendall;
%ignore weft_socket_sendto;
%ignore weft_socket_recv;
%ignore weft_socket_recvfrom;
%ignore weft_socket_create_connection;
%ignore weft_addrinfo_new;
%ignore weft_addrinfo_count;
%ignore weft_addrinfo_get;
%ignore weft_addrinfo_canonname;
%ignore weft_socket_getnameinfo;
%ignore weft_socket_gethostbyname;
%ignore weft_socket_gethostbyname_ex;
%ignore weft_socket_gethostbyaddr;
%ignore weft_socket_gethostname;
%ignore weft_socket_getfqdn;
%ignore weft_socket_getservbyname;
%ignore weft_socket_getservbyport;
%ignore weft_socket_getprotobyname;
%ignore weft_socket_inet_aton;
%ignore weft_socket_inet_ntoa;
%ignore weft_socket_inet_pton;
%ignore weft_socket_inet_ntop;
%ignore weft_select_wait;
%ignore weft_poller_poll;
%ignore weft_stream_read;
%ignore weft_stream_read1;
%ignore weft_stream_readall;
%ignore weft_stream_readline;
%ignore weft_stream_write;
%ignore weft_stream_flush;

/* Arguments: strict (TypeError, RangeError) and cheap.  None of these
 * allocates, so raising from them leaks nothing. */
%typemap(in) weft_handle "$1 = weft_rb_handle($input);"
%typemap(in) double "$1 = weft_rb_double($input);"
%typemap(in) int "$1 = NUM2INT($input);"
%typemap(in) int daemon, int blocking "$1 = RB_INTEGER_TYPE_P($input) ? NUM2INT($input) != 0 : RTEST($input);"
%typemap(in) int64_t "$1 = NUM2LL($input);"
%typemap(in) uint32_t "$1 = weft_rb_u32($input);"
%typemap(in) size_t "$1 = weft_rb_size($input);"
%typemap(in) const char * "$1 = NIL_P($input) ? NULL : StringValueCStr($input);"
%typemap(freearg) const char * ""
%typemap(out) const char * "$result = $1 ? rb_utf8_str_new_cstr($1) : Qnil;"

/* Out-parameters become the return value. */
%typemap(in, numinputs=0) weft_handle *out (weft_handle tmp = 0),
                          int *OUT_INT (int tmp = 0), int *OUT_BOOL (int tmp = 0),
                          int64_t * (int64_t tmp = 0), uint64_t * (uint64_t tmp = 0),
                          size_t * (size_t tmp = 0) "$1 = &tmp;"
%typemap(argout) weft_handle *out, int64_t * "$result = SWIG_Ruby_AppendOutput($result, LL2NUM(*$1));"
%typemap(argout) uint64_t * "$result = SWIG_Ruby_AppendOutput($result, ULL2NUM(*$1));"
%typemap(argout) size_t * "$result = SWIG_Ruby_AppendOutput($result, SIZET2NUM(*$1));"
%typemap(argout) int *OUT_INT "$result = SWIG_Ruby_AppendOutput($result, INT2NUM(*$1));"
%typemap(argout) int *OUT_BOOL "$result = SWIG_Ruby_AppendOutput($result, *$1 ? Qtrue : Qfalse);"
%apply int *OUT_INT { int *kind, int *result, int *fd };
%apply int *OUT_BOOL { int *alive, int *daemon, int *locked, int *owned, int *is_set, int *broken };
%apply int *OUT_INT { int *family, int *type, int *proto, int *value };
%apply int *OUT_BOOL { int *blocking, int *has, int *readable, int *writable };
%apply weft_handle *out { weft_handle *first, weft_handle *second };
%typemap(in, numinputs=0) double *timeout (double tmp = 0) "$1 = &tmp;"
%typemap(argout) double *timeout "$result = SWIG_Ruby_AppendOutput($result, DBL2NUM(*$1));"
%apply double *timeout { double *seconds, double *interval, double *old_seconds, double *old_interval };
%apply int *OUT_INT { int *old_fd, int *last_errno, int *delivery };
%apply int *OUT_BOOL { int *valid };
%apply weft_handle *out { weft_handle *thread };
%typemap(in) unsigned int "$1 = NUM2UINT($input);"
%typemap(in, numinputs=0) unsigned int *previous (unsigned int tmp = 0) "$1 = &tmp;"
%typemap(argout) unsigned int *previous "$result = SWIG_Ruby_AppendOutput($result, UINT2NUM(*$1));"

/* A negative status raises (rbweft.c's weft_rb_raise), from the `ret`
 * typemap: it runs after the cleanup, which SWIG_exception would skip. */
%typemap(out) weft_status "$result = Qnil;"
%typemap(ret) weft_status "if ($1 < 0) { weft_rb_raise($1); }"

/* Blocking calls run without the GVL and stay interruptible
 * (weft_rb_wait).  An acquire-style call returns true, or false when it
 * timed out, like Mutex#try_lock. */
%define WEFT_RB_WAIT(func, h, timeout, out, flags)
%feature("action") weft_ ## func {
  result = weft_rb_wait(weft_rb_ ## func, h, timeout, out, flags);
}
%enddef
%define WEFT_RB_TIMEOUT_IS_OK(func)
%typemap(ret) weft_status weft_ ## func "if ($1 < 0 && $1 != -ETIMEDOUT) { weft_rb_raise($1); }"
%enddef
%define WEFT_RB_TIMEOUT_IS_FALSE(func)
%typemap(out) weft_status weft_ ## func "$result = $1 == 0 ? Qtrue : Qfalse;"
WEFT_RB_TIMEOUT_IS_OK(func)
%enddef
WEFT_RB_WAIT(thread_join, arg1, arg2, NULL, WEFT_RB_POLL)
WEFT_RB_WAIT(thread_shutdown, 0, arg1, NULL, 0)
WEFT_RB_WAIT(sleep, 0, arg1, NULL, 0)
WEFT_RB_WAIT(lock_acquire, arg1, arg2, NULL, WEFT_RB_POLL)
WEFT_RB_WAIT(rlock_acquire, arg1, arg2, NULL, WEFT_RB_POLL)
WEFT_RB_WAIT(condition_acquire, arg1, arg2, NULL, WEFT_RB_POLL)
WEFT_RB_WAIT(condition_wait, arg1, arg2, NULL, 0)
WEFT_RB_WAIT(semaphore_acquire, arg1, arg2, NULL, WEFT_RB_POLL)
WEFT_RB_WAIT(event_wait, arg1, arg2, NULL, WEFT_RB_POLL)
WEFT_RB_WAIT(barrier_wait, arg1, arg2, arg3, 0)
WEFT_RB_WAIT(barrier_wait_default, arg1, 0, arg2, 0)
WEFT_RB_WAIT(dispatcher_run, arg1, arg2, arg3, 0)
WEFT_RB_TIMEOUT_IS_FALSE(thread_join)
WEFT_RB_TIMEOUT_IS_FALSE(thread_shutdown)
WEFT_RB_TIMEOUT_IS_FALSE(lock_acquire)
WEFT_RB_TIMEOUT_IS_FALSE(rlock_acquire)
WEFT_RB_TIMEOUT_IS_FALSE(condition_acquire)
WEFT_RB_TIMEOUT_IS_FALSE(condition_wait)
WEFT_RB_TIMEOUT_IS_FALSE(semaphore_acquire)
WEFT_RB_TIMEOUT_IS_FALSE(event_wait)
WEFT_RB_TIMEOUT_IS_OK(dispatcher_run) /* nothing came: 0 calls ran */

/* mNative: SWIG's variable for the module, named after -module. */
%init %{
  weft_rb_init(mNative);
%}
#endif /* SWIGRUBY */

%include "weft.h"
