/* rbweft.c - the C half of weft's Ruby binding: native exceptions, the
 * GVL, callbacks.
 *
 * Ruby's rules, and how this file keeps them:
 *   - A blocking weft call must not hold the GVL, and must stay
 *     interruptible (Thread#kill, Thread#raise, Ctrl-C): weft_rb_wait runs
 *     it under rb_nogvl with an unblocking function that has
 *     weft_thread_interrupt called on the waiting thread.
 *   - Ruby must never be entered from a thread it does not know.  A
 *     Weft::Thread's target runs on a Ruby Thread that adopts the weft
 *     thread (weft_thread_adopt).  Timer functions and barrier actions fire
 *     on whatever thread weft picks: on a Ruby thread they take the GVL
 *     (rb_thread_call_with_gvl); on any other they are queued to weft's
 *     dispatcher, which a Ruby thread of ours drains.  Signal handlers
 *     run on the "weft-signals" Ruby thread (rbsignal.c).
 *   - The GC must not free a Proc that C may still call: every callback
 *     handed to weft is an id into `callbacks`, a marked Hash; weft holds
 *     only the id.
 *   - Ruby raises by longjmp.  Nothing here is left half done across a
 *     raise: exceptions from callbacks are caught (rb_protect) where weft
 *     called us and raised again once weft has returned.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <ruby.h>
#include <ruby/thread.h>

#include "rbweft.h"

/* Exported by libruby (ruby-ffi uses it too) but not declared in the
 * public headers of Ruby 3.1. */
int ruby_thread_has_gvl_p(void);

static ID id_call, id_code, id_detail, id_pending, id_alive_p,
    id_full_message, id_report_on_exception, id_name_set;

/* ---------------------------------------------------------------- errors */

static VALUE error_module;  /* Weft::Error */
static VALUE timeout_error; /* Weft::TimeoutError < Errno::ETIMEDOUT */
static VALUE socket_error;  /* SocketError, of Ruby's socket library */
static VALUE io_wait_class[3]; /* IO::EAGAINWaitReadable, ...Writable,
                                  IO::EINPROGRESSWaitWritable */

/* weft's own codes and their classes (Errno::* serve -errno).  A later
 * module adds its codes here. */
static struct {
  weft_status code;
  const char *name;
  VALUE *parent;
  VALUE klass;
} errors[] = {
    {WEFT_EBADHANDLE, "BadHandleError", &rb_eStandardError, Qnil},
    {WEFT_ECLOSED, "ClosedError", &rb_eIOError, Qnil},
    {WEFT_ESTATE, "StateError", &rb_eThreadError, Qnil},
    {WEFT_EVALUE, "ValueError", &rb_eArgError, Qnil},
    {WEFT_ERANGE, "RangeError", &rb_eRangeError, Qnil},
    {WEFT_EGAI, "ResolutionError", &socket_error, Qnil},
    {WEFT_ESSL, "SSLError", &rb_eStandardError, Qnil},
    {WEFT_EFFI, "FFIError", &rb_eStandardError, Qnil},
    {WEFT_ENOTSUP, "NotSupportedError", &rb_eStandardError, Qnil},
    {WEFT_EBROKEN, "BrokenBarrierError", &rb_eRuntimeError, Qnil},
    /* a host entry lookup (h_errno): a ResolutionError, defined above */
    {WEFT_EHOST, "HostError", &errors[5].klass, Qnil},
    {0, "UnknownError", &rb_eStandardError, Qnil}, /* any other code */
};
#define N_ERRORS (sizeof errors / sizeof errors[0])

static VALUE error_class(weft_status st) {
  size_t i;
  for (i = 0; i < N_ERRORS - 1; i++)
    if (errors[i].code == st)
      break;
  return errors[i].klass;
}

VALUE weft_rb_error(weft_status st, int io) {
  /* The message belongs to the last failure on this thread: it is ours
   * unless the status did not come from a weft call that records one. */
  int ours = weft_last_error_code() == st;
  const char *msg = ours ? weft_last_error_message() : "";
  if (*msg == '\0')
    msg = weft_strerror(st);
  VALUE exc;
  if (st > WEFT_ERR_BASE) {
    VALUE klass = Qnil;
    if (st == -ETIMEDOUT)
      klass = timeout_error;
    else if (st == -EINPROGRESS && io != WEFT_RB_IO_NONE)
      klass = io_wait_class[2];
    else if ((st == -EAGAIN || st == -EWOULDBLOCK) && io != WEFT_RB_IO_NONE)
      klass = io_wait_class[io == WEFT_RB_IO_READ ? 0 : 1];
    if (NIL_P(klass)) {
      exc = rb_syserr_new(-st, msg); /* picks Errno::ECONNREFUSED, ... */
    } else {
      VALUE m = rb_str_new_cstr(msg);
      exc = rb_class_new_instance(1, &m, klass);
    }
    rb_extend_object(exc, error_module);
  } else {
    exc = rb_exc_new_cstr(error_class(st), msg);
  }
  rb_ivar_set(exc, id_code, INT2NUM(st));
  rb_ivar_set(exc, id_detail, INT2NUM(ours ? weft_last_error_detail() : 0));
  return exc;
}

void weft_rb_raise(weft_status st) {
  rb_exc_raise(weft_rb_error(st, WEFT_RB_IO_NONE));
}

void weft_rb_raise_io(weft_status st, int io) {
  rb_exc_raise(weft_rb_error(st, io));
}

static VALUE error_weft_name(VALUE self) {
  VALUE code = rb_attr_get(self, id_code);
  return NIL_P(code) ? Qnil : rb_str_new_cstr(weft_err_name(NUM2INT(code)));
}

static void init_errors(VALUE weft) {
  /* A module, so that ValueError can be an ArgumentError and StateError a
   * ThreadError, and `rescue Weft::Error` still catches every one of
   * them (Errno::* ones included).  ResolutionError is a SocketError, as
   * Ruby's own resolver failures are. */
  rb_require("socket");
  socket_error = rb_const_get(rb_cObject, rb_intern("SocketError"));
  error_module = rb_define_module_under(weft, "Error");
  rb_define_attr(error_module, "code", 1, 0);
  rb_define_attr(error_module, "detail", 1, 0);
  rb_define_method(error_module, "weft_name", error_weft_name, 0);
  for (size_t i = 0; i < N_ERRORS; i++) {
    errors[i].klass =
        rb_define_class_under(weft, errors[i].name, *errors[i].parent);
    rb_include_module(errors[i].klass, error_module);
  }
  rb_define_const(weft, "GAIError", error_class(WEFT_EGAI)); /* the old name */
  /* A socket, stream or select timeout: still an Errno::ETIMEDOUT. */
  timeout_error = rb_define_class_under(
      weft, "TimeoutError", rb_const_get(rb_mErrno, rb_intern("ETIMEDOUT")));
  rb_include_module(timeout_error, error_module);
  /* A non-blocking call that would block: Ruby's own classes, so that
   * `rescue IO::WaitReadable` works as with read_nonblock. */
  static const char *const wait_names[3] = {
      "EAGAINWaitReadable", "EAGAINWaitWritable", "EINPROGRESSWaitWritable"};
  for (int i = 0; i < 3; i++)
    io_wait_class[i] = rb_const_get(rb_cIO, rb_intern(wait_names[i]));
}

/* -------------------------------------------------------- conversions */

weft_handle weft_rb_handle(VALUE v) {
  if (RB_FIXNUM_P(v))
    return FIX2LONG(v);
  if (!RB_TYPE_P(v, T_BIGNUM))
    rb_raise(rb_eTypeError, "a weft handle is an Integer, not %" PRIsVALUE,
             rb_obj_class(v));
  return NUM2LL(v); /* RangeError beyond 64 bits; weft refuses the rest */
}

double weft_rb_double(VALUE v) {
  if (RB_FLOAT_TYPE_P(v))
    return RFLOAT_VALUE(v);
  return NUM2DBL(v); /* TypeError for nil, strings, ... */
}

size_t weft_rb_size(VALUE v) {
  long long n = NUM2LL(v);
  if (n < 0)
    rb_raise(rb_eRangeError, "%lld is negative; a size is >= 0", n);
  return (size_t)n;
}

/* ------------------------------------------------------ blocking calls */

/* A callback that ran inside a blocking call (a barrier action on the
 * thread that arrived last, a dispatched call on the dispatcher thread)
 * cannot longjmp through weft.  What it left to do is kept here and done
 * when the call has returned: a tag to resume (Thread#kill, throw) or an
 * exception to raise (in the Ruby thread-local id_pending). */
static __thread int deferred_tag;
static __thread int deferred_raise;

void weft_rb_defer(int state, VALUE exc) {
  if (state != 0) {
    deferred_tag = state;
    return;
  }
  rb_thread_local_aset(rb_thread_current(), id_pending, exc);
  deferred_raise = 1;
}

void weft_rb_run_deferred(void) {
  int tag = deferred_tag;
  if (tag != 0) {
    deferred_tag = 0;
    rb_jump_tag(tag);
  }
  if (deferred_raise) {
    deferred_raise = 0;
    VALUE th = rb_thread_current();
    VALUE exc = rb_thread_local_aref(th, id_pending);
    rb_thread_local_aset(th, id_pending, Qnil);
    if (!NIL_P(exc))
      rb_exc_raise(exc);
  }
}

/* The unblocking function must be async-signal-safe: when the main thread
 * is Ruby's only thread, Ruby calls it from its signal handler (Ctrl-C;
 * without RB_NOGVL_UBF_ASYNC_SAFE, Ruby 3.1 instead starts a helper Ruby
 * thread for every such blocking call).
 * weft_thread_interrupt takes locks, so the unblocking function only
 * writes the thread's handle to a pipe, and the interrupter, a plain
 * pthread with every signal blocked, makes the call. */
static int intr_pipe[2] = {-1, -1};
static int intr_ready; /* the interrupter runs in this process */

/* The calls in progress (under calls_mu): the interrupter interrupts a
 * call only while it is listed, and marks it; a call that was marked
 * drops, once it has unlisted itself, whatever interrupt is still pending
 * (weft_thread_interrupt_clear).  So a wake-up that the interrupter
 * delivers late never lands on the thread's next call, which may be
 * another Ruby thread's on the same OS thread (Ruby's thread cache). */
struct nogvl;
static pthread_mutex_t calls_mu = PTHREAD_MUTEX_INITIALIZER;
static struct nogvl *calls;
static uint64_t calls_seq;

struct nogvl {
  weft_handle self; /* the waiting thread, for the interrupter */
  uint64_t seq;     /* this call, for the unblocking fn's message */
  weft_rb_call_fn fn;
  void *arg;
  weft_status st;
  int interrupted; /* under calls_mu */
  struct nogvl *prev, *next;
};

/* What the unblocking function writes: which call to interrupt. */
struct intr_msg {
  struct nogvl *call;
  uint64_t seq;
};

static void *interrupter_main(void *arg) {
  int fd = (int)(intptr_t)arg;
  for (;;) {
    struct intr_msg m;
    ssize_t n = read(fd, &m, sizeof m);
    if (n == (ssize_t)sizeof m) {
      pthread_mutex_lock(&calls_mu);
      for (struct nogvl *c = calls; c != NULL; c = c->next)
        if (c == m.call && c->seq == m.seq) {
          c->interrupted = 1;
          weft_thread_interrupt(c->self);
          break;
        }
      pthread_mutex_unlock(&calls_mu); /* (a call over already: nothing) */
    } else if (n == 0 || (n < 0 && errno != EINTR)) {
      return NULL;
    }
  }
}

static void call_list(struct nogvl *c) {
  pthread_mutex_lock(&calls_mu);
  c->seq = ++calls_seq;
  c->interrupted = 0;
  c->prev = NULL;
  c->next = calls;
  if (calls != NULL)
    calls->prev = c;
  calls = c;
  pthread_mutex_unlock(&calls_mu);
}

static void call_unlist(struct nogvl *c) {
  pthread_mutex_lock(&calls_mu);
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    calls = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  int interrupted = c->interrupted;
  pthread_mutex_unlock(&calls_mu);
  if (interrupted) {
    int was;
    weft_thread_interrupt_clear(&was);
  }
}

/* Start the interrupter; 0 or -errno.  Called with the GVL held. */
static int interrupter_ensure(void) {
  if (intr_ready)
    return 0;
  if (intr_pipe[0] >= 0) { /* the parent's: its interrupter reads it */
    close(intr_pipe[0]);
    close(intr_pipe[1]);
    intr_pipe[0] = intr_pipe[1] = -1;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    return -errno;
  /* The signal handler must never block on a full pipe. */
  fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t tid;
  int r = pthread_create(&tid, &attr, interrupter_main,
                         (void *)(intptr_t)fds[0]);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r != 0) {
    close(fds[0]);
    close(fds[1]);
    return -r;
  }
  intr_pipe[0] = fds[0];
  intr_pipe[1] = fds[1];
  intr_ready = 1;
  return 0;
}

static void after_fork_child(void) {
  intr_ready = 0; /* the child has the pipe but not the interrupter */
  pthread_mutex_init(&calls_mu, NULL);
  calls = NULL; /* the parent's other threads' calls */
}

static void *call_nogvl(void *p) {
  struct nogvl *c = p;
  c->st = c->fn(c->arg);
  return NULL;
}

/* Ruby calls this from another thread (Thread#kill, Thread#raise) or
 * from its signal handler to wake ours. */
static void call_ubf(void *p) {
  int saved = errno;
  struct nogvl *c = p;
  struct intr_msg m = {c, c->seq}; /* c lives while Ruby may call this */
  ssize_t n = write(intr_pipe[1], &m, sizeof m); /* < PIPE_BUF: atomic */
  (void)n; /* a full pipe holds thousands of pending wake-ups already */
  errno = saved;
}

/* When a call began, for timed_out: a coarse clock is plenty for that and
 * costs a fraction of weft_monotonic, which every socket call would pay
 * although few are ever retried. */
static double call_start(void) {
#ifdef CLOCK_MONOTONIC_COARSE
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0)
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
#endif
  return weft_monotonic();
}

/* Whether `h`'s own timeout (a socket's or a stream's) has run out since
 * `start`: weft restarts it on each call, so retries keep to it here. */
static int timed_out(weft_handle h, int flags, double start) {
  double t = -1;
  weft_status st = (flags & WEFT_RB_STREAM_TIMED)
                       ? weft_stream_get_timeout(h, &t)
                       : weft_socket_get_timeout(h, &t);
  return st == 0 && t > 0 && call_start() - start >= t;
}

weft_status weft_rb_call(weft_rb_call_fn fn, void *arg, int flags,
                         weft_handle timed) {
  int intr = (flags & WEFT_RB_UNINTERRUPTIBLE) == 0;
  struct nogvl c = {.fn = fn, .arg = arg};
  if (intr) {
    weft_status st = weft_thread_current(&c.self); /* borrowed; alive */
    if (st < 0)
      return st;
    int r = interrupter_ensure();
    if (r < 0)
      return r;
  }
  int is_main = intr && rb_thread_current() == rb_thread_main();
  double start = timed ? call_start() : 0;
  for (;;) {
    /* Ruby's own signals (Ctrl-C) reach a main thread waiting here through
     * the signals thread (rbsignal.c), once there are other threads. */
    if (is_main && !rb_thread_alone())
      weft_rb_signals_watch();
    /* -EINTR stays if Ruby had an interrupt pending and skipped the call.
     * RB_NOGVL_INTR_FAIL: Ruby does not run its interrupts after a call
     * that succeeded, so a Thread#raise cannot land between acquiring a
     * lock (or receiving data) and handing it to the caller. */
    c.st = -EINTR;
    if (intr)
      call_list(&c);
    rb_nogvl(call_nogvl, &c, intr ? call_ubf : NULL, &c,
             RB_NOGVL_INTR_FAIL | (intr ? RB_NOGVL_UBF_ASYNC_SAFE : 0));
    if (intr)
      call_unlist(&c);
    if (c.st != -EINTR)
      break;
    weft_rb_run_deferred();
    rb_thread_check_ints(); /* may raise: that ends the call */
    if (timed && timed_out(timed, flags, start)) {
      c.st = -ETIMEDOUT;
      break;
    }
  }
  weft_rb_run_deferred();
  return c.st;
}

struct wait {
  weft_rb_wait_fn fn;
  weft_handle h;
  double timeout, deadline; /* deadline: for timeout > 0 */
  void *out;
  int again; /* not the first call: the timeout is what is left */
};

static weft_status wait_fn(void *p) {
  struct wait *w = p;
  double t = w->timeout;
  if (w->again && t > 0) {
    t = w->deadline - weft_monotonic();
    if (t < 0)
      t = 0;
  }
  w->again = 1;
  return w->fn(w->h, t, w->out);
}

weft_status weft_rb_wait(weft_rb_wait_fn fn, weft_handle h, double timeout,
                         void *out, int flags) {
  /* Not for NaN: the call itself must refuse it. */
  if ((flags & WEFT_RB_POLL) && (timeout > 0 || timeout < 0)) {
    weft_status st = fn(h, 0, out);
    if (st != -ETIMEDOUT && st != -EINTR)
      return st;
  }
  struct wait w = {fn, h, timeout, 0, out, 0};
  if (timeout > 0)
    w.deadline = weft_monotonic() + timeout;
  return weft_rb_call(wait_fn, &w, 0, 0);
}

#define WAIT_HT(name)                                                         \
  weft_status weft_rb_##name(weft_handle h, double timeout, void *out) {      \
    (void)out;                                                                \
    return weft_##name(h, timeout);                                           \
  }
WAIT_HT(thread_join)
WAIT_HT(lock_acquire)
WAIT_HT(rlock_acquire)
WAIT_HT(condition_acquire)
WAIT_HT(condition_wait)
WAIT_HT(semaphore_acquire)
WAIT_HT(event_wait)

weft_status weft_rb_thread_shutdown(weft_handle h, double timeout,
                                    void *out) {
  (void)h, (void)out;
  return weft_thread_shutdown(timeout);
}

weft_status weft_rb_sleep(weft_handle h, double timeout, void *out) {
  (void)h, (void)out;
  return weft_sleep(timeout);
}

weft_status weft_rb_barrier_wait(weft_handle h, double timeout, void *out) {
  return weft_barrier_wait(h, timeout, out);
}

/* After an interrupt this waits the barrier's whole default timeout
 * again: the default is not readable, and the thread left its cycle. */
weft_status weft_rb_barrier_wait_default(weft_handle h, double timeout,
                                         void *out) {
  (void)timeout;
  return weft_barrier_wait_default(h, out);
}

weft_status weft_rb_dispatcher_run(weft_handle h, double timeout, void *out) {
  return weft_dispatcher_run(h, timeout, out);
}

/* ----------------------------------------------------------- callbacks */

/* id (Fixnum) -> Proc: every Ruby callable weft may still call.  weft
 * holds the id (as its void *arg), never a VALUE. */
static VALUE callbacks;
static long callback_last;

/* Weft::Native.callback_register(proc) -> id */
static VALUE m_callback_register(VALUE self, VALUE proc) {
  if (!rb_respond_to(proc, id_call))
    rb_raise(rb_eTypeError, "a weft callback responds to #call; %" PRIsVALUE
             " does not", rb_obj_class(proc));
  VALUE id = LONG2FIX(++callback_last);
  rb_hash_aset(callbacks, id, proc);
  return id;
}

long weft_rb_callback_add(VALUE proc) {
  return FIX2LONG(m_callback_register(Qnil, proc));
}

VALUE weft_rb_callback_get(long id) {
  return rb_hash_lookup(callbacks, LONG2FIX(id));
}

void weft_rb_callback_drop(long id) { rb_hash_delete(callbacks, LONG2FIX(id)); }

/* Weft::Native.callback_forget(id): weft will not call it again. */
static VALUE m_callback_forget(VALUE self, VALUE id) {
  rb_hash_delete(callbacks, id);
  return Qnil;
}

static VALUE report_body(VALUE arg) {
  VALUE *a = (VALUE *)arg;
  if (!RTEST(rb_funcall(rb_cThread, id_report_on_exception, 0)))
    return Qnil;
  VALUE text = rb_sprintf("weft %" PRIsVALUE
                          " terminated with exception (report_on_exception "
                          "is true):\n",
                          a[1]);
  rb_str_append(text, rb_funcall(a[0], id_full_message, 0));
  rb_io_write(rb_stderr, text);
  return Qnil;
}

/* Report an exception nobody is waiting for, as Ruby reports one that
 * ends a Thread. */
void weft_rb_report(VALUE exc, const char *what) {
  if (rb_obj_is_kind_of(exc, rb_eSystemExit))
    return; /* Ruby does not report those either */
  VALUE a[2] = {exc, rb_str_new_cstr(what)};
  int state = 0;
  rb_protect(report_body, (VALUE)a, &state);
  if (state != 0)
    rb_set_errinfo(Qnil);
}

struct call {
  long id;
  const char *what; /* for the report: "timer function", ... */
  int once;         /* forget the callback once called (a timer's function) */
  int to_waiter;    /* an exception goes to the Ruby thread whose weft call
                       is running the callback (a barrier action) */
  int result;       /* the weft result: 0, or 1 if it raised */
};

static VALUE call_proc(VALUE proc) { return rb_funcallv(proc, id_call, 0, 0); }

/* Runs with the GVL held, on a Ruby thread. */
static void *call_with_gvl(void *p) {
  struct call *c = p;
  VALUE key = LONG2FIX(c->id);
  VALUE proc = c->once ? rb_hash_delete(callbacks, key)
                       : rb_hash_lookup(callbacks, key);
  if (NIL_P(proc)) { /* forgotten: its Ruby owner was closed */
    c->result = WEFT_ECLOSED;
    return NULL;
  }
  int state = 0;
  rb_protect(call_proc, proc, &state);
  RB_GC_GUARD(proc);
  c->result = state != 0;
  if (state == 0)
    return NULL;
  VALUE err = rb_errinfo();
  if (!rb_obj_is_kind_of(err, rb_eException)) {
    deferred_tag = state; /* killed, or a throw: resumed after weft returns */
    return NULL;
  }
  rb_set_errinfo(Qnil);
  if (c->to_waiter) {
    weft_rb_defer(0, err);
  } else {
    weft_rb_report(err, c->what);
  }
  return NULL;
}

/* On a Ruby thread: with the GVL, whether this thread holds it already or
 * is waiting in weft without it. */
static void call_on_ruby_thread(struct call *c) {
  if (ruby_thread_has_gvl_p())
    call_with_gvl(c);
  else
    rb_thread_call_with_gvl(call_with_gvl, c);
}

static weft_handle dispatcher;  /* drained by dispatcher_thread */
static VALUE dispatcher_thread; /* a Ruby Thread, or nil */

static void dispatched(void *p) {
  struct call *c = p;
  c->to_waiter = 0; /* the dispatcher thread waits for nothing of its own */
  call_on_ruby_thread(c);
}

/* Call callback `id` from whatever thread weft is running it on. */
static int enter_ruby(long id, const char *what, int once, int to_waiter) {
  struct call c = {id, what, once, to_waiter, 0};
  if (ruby_native_thread_p()) {
    call_on_ruby_thread(&c);
    return c.result;
  }
  /* A thread Ruby does not know: queue the call to the dispatcher thread
   * and wait for it. */
  weft_status st = weft_dispatcher_call(dispatcher, dispatched, &c, 1);
  return st < 0 ? st : c.result;
}

/* weft_rb_with_gvl: fn(arg) with the GVL on a Ruby thread, from any. */
struct gvl_call {
  void *(*fn)(void *);
  void *arg;
};

static void gvl_dispatched(void *p) {
  struct gvl_call *g = p;
  if (ruby_thread_has_gvl_p())
    g->fn(g->arg);
  else
    rb_thread_call_with_gvl(g->fn, g->arg);
}

weft_status weft_rb_with_gvl(void *(*fn)(void *), void *arg) {
  if (ruby_native_thread_p()) {
    if (ruby_thread_has_gvl_p())
      fn(arg);
    else
      rb_thread_call_with_gvl(fn, arg);
    return 0;
  }
  struct gvl_call g = {fn, arg};
  return weft_dispatcher_call(dispatcher, gvl_dispatched, &g, 1);
}

static int timer_fn(void *arg) {
  return enter_ruby((long)(intptr_t)arg, "timer function", 1, 0);
}

static int barrier_action(void *arg) {
  return enter_ruby((long)(intptr_t)arg, "barrier action", 0, 1);
}

/* The dispatcher thread: drains the dispatcher until it is closed.  The
 * wait releases the GVL and is interruptible, so Ruby can end the thread
 * at exit. */
static VALUE dispatcher_main(void *arg) {
  (void)arg;
  for (;;) {
    size_t ran = 0;
    weft_status st = weft_rb_wait(weft_rb_dispatcher_run, dispatcher, -1,
                                  &ran, 0);
    if (st == WEFT_ECLOSED || st == WEFT_EBADHANDLE)
      return Qnil;
    if (st < 0 && st != -ETIMEDOUT)
      weft_rb_raise(st);
  }
}

/* Started on the first callback that may need it, and again in a forked
 * child (whose Ruby threads are gone). */
static void dispatcher_ensure(void) {
  if (!NIL_P(dispatcher_thread) &&
      RTEST(rb_funcall(dispatcher_thread, id_alive_p, 0)))
    return;
  dispatcher_thread = rb_thread_create(dispatcher_main, NULL);
  rb_funcall(dispatcher_thread, id_name_set, 1,
             rb_str_new_cstr("weft-dispatcher"));
}

void weft_rb_dispatcher_ensure(void) { dispatcher_ensure(); }

/* At exit, after weft.rb's at_exit has waited for the non-daemon
 * threads: a daemon timer that fires later must find the dispatcher
 * closed (its function fails) rather than wait for a thread Ruby has
 * killed. */
static void dispatcher_close_at_exit(VALUE unused) {
  (void)unused;
  weft_close(dispatcher);
}

/* Weft::Native.dispatcher -> the handle of the binding's dispatcher. */
static VALUE m_dispatcher(VALUE self) { return LL2NUM(dispatcher); }

/* -------------------------------------------------------------- threads */

/* The target of the thread the calling OS thread is adopting: set only
 * around weft_thread_adopt in m_thread_adopt, so a Ruby thread target can
 * never run on a thread Ruby does not know (a weft_thread_start of the
 * handle from another language gets WEFT_ESTATE as its result). */
static __thread VALUE adopt_target;
static __thread int adopt_active;
static __thread int adopt_state;

static int thread_trampoline(void *arg) {
  (void)arg;
  if (!adopt_active)
    return WEFT_ESTATE;
  adopt_active = 0; /* once */
  int state = 0;
  rb_protect(call_proc, adopt_target, &state);
  adopt_state = state;
  return state != 0;
}

/* Weft::Native.thread_new(name) -> an unstarted thread whose target is
 * given to thread_adopt. */
static VALUE m_thread_new(VALUE self, VALUE name) {
  const char *cname = NIL_P(name) ? NULL : StringValueCStr(name);
  weft_handle h;
  weft_status st = weft_thread_new(thread_trampoline, NULL, cname, &h);
  if (st < 0)
    weft_rb_raise(st);
  return LL2NUM(h);
}

/* Weft::Native.thread_adopt(handle, target): run the unstarted thread on
 * the calling Ruby thread, calling target (with the GVL, as any Ruby
 * code).  When the target raised, the exception (or Thread#kill) goes on
 * in this thread once weft has finished the thread: a Ruby Thread that
 * adopts reports it as its own. */
static VALUE m_thread_adopt(VALUE self, VALUE handle, VALUE target) {
  weft_handle h = weft_rb_handle(handle);
  if (!rb_respond_to(target, id_call))
    rb_raise(rb_eTypeError, "a thread target responds to #call");
  adopt_target = target;
  adopt_active = 1;
  adopt_state = 0;
  weft_status st = weft_thread_adopt(h);
  int state = adopt_state;
  adopt_active = 0;
  adopt_target = Qnil;
  adopt_state = 0;
  RB_GC_GUARD(target);
  if (state != 0)
    rb_jump_tag(state);
  if (st < 0)
    weft_rb_raise(st);
  return Qnil;
}

/* Weft::Native.thread_get_name(handle) -> String (UTF-8) */
static VALUE m_thread_get_name(VALUE self, VALUE handle) {
  weft_handle h = weft_rb_handle(handle);
  char small[64];
  size_t len = 0;
  weft_status st = weft_thread_get_name(h, small, sizeof small, &len);
  if (st == 0)
    return rb_utf8_str_new(small, (long)len);
  /* Longer: retry with its length, again if it was renamed meanwhile. */
  while (st == WEFT_ERANGE) {
    VALUE s = rb_utf8_str_new(NULL, (long)len);
    size_t cap = len + 1;
    st = weft_thread_get_name(h, RSTRING_PTR(s), cap, &len);
    if (st == 0) {
      rb_str_set_len(s, (long)len);
      return s;
    }
  }
  weft_rb_raise(st);
}

/* Weft::Native.thread_enumerate -> [handle, ...] (borrowed) */
static VALUE m_thread_enumerate(VALUE self) {
  size_t n = 0;
  weft_status st = weft_thread_active_count(&n);
  if (st < 0)
    weft_rb_raise(st);
  for (;;) {
    size_t cap = n + 8; /* room for threads started meanwhile */
    VALUE tmp;
    weft_handle *buf = ALLOCV_N(weft_handle, tmp, cap);
    st = weft_thread_enumerate(buf, cap, &n);
    if (st == 0) {
      VALUE ary = rb_ary_new_capa((long)n);
      for (size_t i = 0; i < n; i++)
        rb_ary_push(ary, LL2NUM(buf[i]));
      ALLOCV_END(tmp);
      return ary;
    }
    ALLOCV_END(tmp);
    if (st != WEFT_ERANGE)
      weft_rb_raise(st);
  }
}

/* ---------------------------------------------------- timers, barriers */

/* Weft::Native.timer_new(interval, callback_id, name) -> handle.  The
 * callback runs once (through the dispatcher) and is then forgotten. */
static VALUE m_timer_new(VALUE self, VALUE interval, VALUE id, VALUE name) {
  double secs = weft_rb_double(interval);
  long cb = NUM2LONG(id);
  const char *cname = NIL_P(name) ? NULL : StringValueCStr(name);
  dispatcher_ensure();
  weft_handle h;
  weft_status st =
      weft_timer_new(secs, timer_fn, (void *)(intptr_t)cb, cname, &h);
  if (st < 0)
    weft_rb_raise(st);
  return LL2NUM(h);
}

/* Weft::Native.barrier_new(parties, action_id or nil, timeout) -> handle */
static VALUE m_barrier_new(VALUE self, VALUE parties, VALUE id,
                           VALUE timeout) {
  int64_t n = NUM2LL(parties);
  double secs = weft_rb_double(timeout);
  weft_barrier_action_fn action = NULL;
  long cb = 0;
  if (!NIL_P(id)) {
    cb = NUM2LONG(id);
    action = barrier_action;
    dispatcher_ensure(); /* the last party may be a thread Ruby does not know */
  }
  weft_handle h;
  weft_status st =
      weft_barrier_new(n, action, (void *)(intptr_t)cb, secs, &h);
  if (st < 0)
    weft_rb_raise(st);
  return LL2NUM(h);
}

/* ------------------------------------------------------- synchronize */

struct sync {
  weft_status (*release)(weft_handle);
  weft_handle h;
};

static VALUE sync_body(VALUE arg) {
  (void)arg;
  return rb_yield_values(0);
}

static VALUE sync_release(VALUE arg) {
  struct sync *s = (struct sync *)arg;
  weft_status st = s->release(s->h);
  if (st < 0)
    weft_rb_raise(st);
  return Qnil;
}

static weft_status semaphore_release1(weft_handle h) {
  return weft_semaphore_release(h, 1);
}

/* Weft::Native.synchronize(handle) { }: acquire a Lock, RLock, Condition
 * or Semaphore, yield, release.  In C, so that no interrupt can land
 * between the acquire and the ensure that releases. */
static VALUE m_synchronize(VALUE self, VALUE handle) {
  rb_need_block();
  weft_handle h = weft_rb_handle(handle);
  int kind = 0;
  weft_status st = weft_handle_kind(h, &kind);
  if (st < 0)
    weft_rb_raise(st);
  weft_rb_wait_fn acquire;
  struct sync s = {NULL, h};
  switch (kind) {
  case WEFT_KIND_LOCK:
    acquire = weft_rb_lock_acquire, s.release = weft_lock_release;
    break;
  case WEFT_KIND_RLOCK:
    acquire = weft_rb_rlock_acquire, s.release = weft_rlock_release;
    break;
  case WEFT_KIND_CONDITION:
    acquire = weft_rb_condition_acquire, s.release = weft_condition_release;
    break;
  case WEFT_KIND_SEMAPHORE:
    acquire = weft_rb_semaphore_acquire, s.release = semaphore_release1;
    break;
  default:
    rb_raise(error_class(WEFT_EBADHANDLE),
             "synchronize: handle of kind %d is not a lock", kind);
  }
  st = weft_rb_wait(acquire, h, -1, NULL, WEFT_RB_POLL);
  if (st < 0)
    weft_rb_raise(st);
  return rb_ensure(sync_body, Qnil, sync_release, (VALUE)&s);
}

/* ---------------------------------------------------------- for tests */

/* Weft::Native.callback_count -> callbacks weft may still call. */
static VALUE m_callback_count(VALUE self) {
  return LONG2NUM(RHASH_SIZE(callbacks));
}

static int foreign_barrier_wait(void *arg) {
  int64_t index = -1;
  weft_status st = weft_barrier_wait_default((weft_handle)(intptr_t)arg,
                                             &index);
  return st < 0 ? st : (int)index;
}

/* Weft::Native.foreign_barrier_wait(barrier) -> the handle of a started
 * weft thread, which Ruby does not know, that waits on the barrier and
 * returns its index (or the failed status): lets tests make a barrier
 * action fire on such a thread. */
static VALUE m_foreign_barrier_wait(VALUE self, VALUE barrier) {
  weft_handle b = weft_rb_handle(barrier);
  weft_handle h;
  weft_status st = weft_thread_new(foreign_barrier_wait, (void *)(intptr_t)b,
                                   "foreign-barrier-wait", &h);
  if (st == 0 && (st = weft_thread_start(h)) < 0)
    weft_close(h);
  if (st < 0)
    weft_rb_raise(st);
  return LL2NUM(h);
}

/* ------------------------------------------------------------ constants */

/* Weft::Native.constant_at(index) -> [name, value] */
static VALUE m_constant_at(VALUE self, VALUE index) {
  size_t i = weft_rb_size(index);
  char name[128];
  size_t len = 0;
  int64_t value = 0;
  weft_status st = weft_constant_at(i, name, sizeof name, &len, &value);
  if (st == WEFT_ERANGE) {
    VALUE s = rb_utf8_str_new(NULL, (long)len);
    st = weft_constant_at(i, RSTRING_PTR(s), len + 1, &len, &value);
    if (st == 0)
      return rb_assoc_new(s, LL2NUM(value));
  }
  if (st < 0)
    weft_rb_raise(st);
  return rb_assoc_new(rb_utf8_str_new(name, (long)len), LL2NUM(value));
}

/* ----------------------------------------------------------------- init */

void weft_rb_init(VALUE native) {
  id_call = rb_intern("call");
  id_code = rb_intern("@code");
  id_detail = rb_intern("@detail");
  id_pending = rb_intern("__weft_callback_exception");
  id_alive_p = rb_intern("alive?");
  id_full_message = rb_intern("full_message");
  id_report_on_exception = rb_intern("report_on_exception");
  id_name_set = rb_intern("name=");

  init_errors(rb_define_module("Weft"));

  callbacks = rb_hash_new();
  rb_gc_register_mark_object(callbacks);
  dispatcher_thread = Qnil;
  rb_gc_register_address(&dispatcher_thread);
  weft_status st = weft_dispatcher_new(&dispatcher);
  if (st < 0)
    weft_rb_raise(st);
  rb_set_end_proc(dispatcher_close_at_exit, Qnil);
  pthread_atfork(NULL, NULL, after_fork_child);

  rb_define_module_function(native, "callback_register", m_callback_register,
                            1);
  rb_define_module_function(native, "callback_forget", m_callback_forget, 1);
  rb_define_module_function(native, "dispatcher", m_dispatcher, 0);
  rb_define_module_function(native, "thread_new", m_thread_new, 1);
  rb_define_module_function(native, "thread_adopt", m_thread_adopt, 2);
  rb_define_module_function(native, "thread_get_name", m_thread_get_name, 1);
  rb_define_module_function(native, "thread_enumerate", m_thread_enumerate,
                            0);
  rb_define_module_function(native, "timer_new", m_timer_new, 3);
  rb_define_module_function(native, "barrier_new", m_barrier_new, 3);
  rb_define_module_function(native, "synchronize", m_synchronize, 1);
  rb_define_module_function(native, "constant_at", m_constant_at, 1);
  rb_define_module_function(native, "callback_count", m_callback_count, 0);
  rb_define_module_function(native, "foreign_barrier_wait",
                            m_foreign_barrier_wait, 1);
  weft_rb_init_socket(native);
  weft_rb_init_signal(native);
  weft_rb_init_ffi(native);
}
