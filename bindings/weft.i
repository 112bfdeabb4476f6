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

static int weft_py_cell_add(PyObject *fn) {
  if (!PyCallable_Check(fn)) {
    PyErr_Format(PyExc_TypeError, "expected a callable or None, not %.200s",
                 Py_TYPE(fn)->tp_name);
    return -1;
  }
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
  PyObject *key = weft_py_cells ? PyLong_FromVoidPtr(key_ptr) : NULL;
  PyObject *cell = key ? PyDict_GetItemWithError(weft_py_cells, key) : NULL;
  PyObject *fn = cell != NULL ? PyTuple_GET_ITEM(cell, 0) : NULL;
  Py_XINCREF(fn);
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
%}

/* ---- what the package calls besides weft's functions ---- */
%rename(set_error_factory) weft_py_set_error_factory;
%rename(forget) weft_py_forget;
%rename(cell_count) weft_py_cell_count;
%nothread weft_py_set_error_factory;
%nothread weft_py_forget;
%nothread weft_py_cell_count;
%inline %{
/* Set the function that builds exceptions (weft._errors.error). */
void weft_py_set_error_factory(PyObject *factory) {
  Py_XINCREF(factory);
  Py_XSETREF(weft_py_error_factory, factory);
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
              weft_status weft_thread_enumerate {
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

/* (char *buf, size_t cap, size_t *len) returns a str.  The first call
 * uses a buffer on the stack; on WEFT_ERANGE the argout jumps back to the
 * label the check typemap put just before the call, with a buffer of the
 * reported size. */
%typemap(in, numinputs=0) (char *buf, size_t cap, size_t *len)
    (char stack[64], char *heap = NULL, size_t n = 0) {
  $1 = stack;
  $2 = sizeof stack;
  $3 = &n;
}
%typemap(check, noblock=1) (char *buf, size_t cap, size_t *len) {
weft_py_call$argnum:;
}
%typemap(argout) (char *buf, size_t cap, size_t *len) {
  if (result == WEFT_ERANGE) {
    free(heap$argnum);
    if ((heap$argnum = malloc(n$argnum + 1)) == NULL) {
      PyErr_NoMemory();
      SWIG_fail;
    }
    $1 = heap$argnum;
    $2 = n$argnum + 1;
    goto weft_py_call$argnum;
  }
  $result = weft_py_append($result,
                           PyUnicode_DecodeUTF8($1, (Py_ssize_t)n$argnum,
                                                "surrogateescape"));
  if ($result == NULL)
    SWIG_fail;
}
%typemap(freearg) (char *buf, size_t cap, size_t *len) "free(heap$argnum);"
%apply (char *buf, size_t cap, size_t *len) {
  (char *name, size_t cap, size_t *name_len)
}

/* (weft_handle *buf, size_t cap, size_t *n) returns a list, the same way. */
%typemap(in, numinputs=0) (weft_handle *buf, size_t cap, size_t *n)
    (weft_handle stack[32], weft_handle *heap = NULL, size_t n = 0) {
  $1 = stack;
  $2 = sizeof stack / sizeof stack[0];
  $3 = &n;
}
%typemap(check, noblock=1) (weft_handle *buf, size_t cap, size_t *n) {
weft_py_call$argnum:;
}
%typemap(argout) (weft_handle *buf, size_t cap, size_t *n) {
  if (result == WEFT_ERANGE) {
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

/* ---- the GIL ---- */

/* Uncontended acquires (_rules.POLL_FIRST) succeed without handing the
 * GIL over: a try with timeout 0 first, the real wait (GIL released) only
 * if that fails.  NaN goes straight to the call, which refuses it. */
%define WEFT_PY_POLL_FIRST(FN)
%exception FN {
  result = isnan(arg2) ? -ETIMEDOUT : FN(arg1, 0);
  if (result == -ETIMEDOUT && arg2 != 0) {
    $action
  }
}
%enddef
WEFT_PY_POLL_FIRST(weft_lock_acquire)
WEFT_PY_POLL_FIRST(weft_rlock_acquire)
WEFT_PY_POLL_FIRST(weft_condition_acquire)
WEFT_PY_POLL_FIRST(weft_semaphore_acquire)

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

/* Arguments: strict (TypeError, RangeError) and cheap.  None of these
 * allocates, so raising from them leaks nothing. */
%typemap(in) weft_handle "$1 = weft_rb_handle($input);"
%typemap(in) double "$1 = weft_rb_double($input);"
%typemap(in) int "$1 = NUM2INT($input);"
%typemap(in) int daemon "$1 = RB_INTEGER_TYPE_P($input) ? NUM2INT($input) != 0 : RTEST($input);"
%typemap(in) int64_t "$1 = NUM2LL($input);"
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
WEFT_RB_WAIT(thread_join, arg1, arg2, NULL, WEFT_RB_POLL | WEFT_RB_RETRY)
WEFT_RB_WAIT(thread_shutdown, 0, arg1, NULL, WEFT_RB_RETRY)
WEFT_RB_WAIT(sleep, 0, arg1, NULL, arg1 >= 0 ? WEFT_RB_RETRY : 0)
WEFT_RB_WAIT(lock_acquire, arg1, arg2, NULL, WEFT_RB_POLL | WEFT_RB_RETRY)
WEFT_RB_WAIT(rlock_acquire, arg1, arg2, NULL, WEFT_RB_POLL | WEFT_RB_RETRY)
WEFT_RB_WAIT(condition_acquire, arg1, arg2, NULL, WEFT_RB_POLL | WEFT_RB_RETRY)
WEFT_RB_WAIT(condition_wait, arg1, arg2, NULL, 0)
WEFT_RB_WAIT(semaphore_acquire, arg1, arg2, NULL, WEFT_RB_POLL | WEFT_RB_RETRY)
WEFT_RB_WAIT(event_wait, arg1, arg2, NULL, WEFT_RB_POLL | WEFT_RB_RETRY)
WEFT_RB_WAIT(barrier_wait, arg1, arg2, arg3, 0)
WEFT_RB_WAIT(barrier_wait_default, arg1, 0, arg2, 0)
WEFT_RB_WAIT(dispatcher_run, arg1, arg2, arg3, WEFT_RB_RETRY)
WEFT_RB_TIMEOUT_IS_FALSE(thread_join)
WEFT_RB_TIMEOUT_IS_FALSE(thread_shutdown)
WEFT_RB_TIMEOUT_IS_FALSE(lock_acquire)
WEFT_RB_TIMEOUT_IS_FALSE(rlock_acquire)
WEFT_RB_TIMEOUT_IS_FALSE(condition_acquire)
WEFT_RB_TIMEOUT_IS_FALSE(condition_wait)
WEFT_RB_TIMEOUT_IS_FALSE(semaphore_acquire)
WEFT_RB_TIMEOUT_IS_FALSE(event_wait)
WEFT_RB_TIMEOUT_IS_OK(sleep)         /* weft_rb_sleep: a full sleep "times out" */
WEFT_RB_TIMEOUT_IS_OK(dispatcher_run) /* nothing came: 0 calls ran */

/* mNative: SWIG's variable for the module, named after -module. */
%init %{
  weft_rb_init(mNative);
%}
#endif /* SWIGRUBY */

%include "weft.h"
