/* rbsignal.c - the signal module for Ruby, and the "weft-signals" thread.
 *
 * One Ruby thread, "weft-signals", serves both kinds of signal handler,
 * and never polls:
 *
 *   - Ruby's own (Signal.trap, Interrupt on Ctrl-C).  Ruby notices a
 *     pending signal on a thread that runs Ruby code, or that sleeps in
 *     Ruby (it then waits on Ruby's signal pipe too, and interrupts the
 *     main thread).  While the main thread waits in weft without the GVL
 *     and is not Ruby's only thread, nobody might: so from the first such
 *     wait on, this thread sleeps in Ruby.  With no Weft::Signal handler
 *     it sleeps for good (rb_thread_sleep_deadly: a sleeper Ruby's
 *     deadlock check counts, so a main thread stuck in Queue#pop is still
 *     reported); with handlers it waits on `notify` (rb_thread_wait_fd).
 *     Either way a signal wakes it at once.
 *   - weft's (Weft::Signal.trap).  weft's C handler trips the signal; the
 *     "sigwait" pthread, which never enters Ruby, waits in
 *     weft_signal_wait and writes a byte to `notify`; this thread wakes
 *     and calls weft_signal_dispatch with the GVL held; weft calls
 *     handler_fn on it, and handler_fn calls the Ruby handler with the
 *     signal number.  The delivery mode is WEFT_SIGNAL_DISPATCH, so weft
 *     never runs a handler inside a blocking call or on a thread of its
 *     own: a wait of the main thread goes on through signals (weft retries
 *     with its deadline), and the handler runs beside it.
 *
 * An exception in a handler goes where Ruby sends a trap handler's: to the
 * main thread (Thread#raise, which also ends a weft wait there).  A
 * handler run by an explicit call (Weft::Signal.dispatch, raise and pause
 * on the main thread) raises in that call instead.  Ruby is entered only
 * on a Ruby thread with the GVL: handler_fn called anywhere else (another
 * binding's dispatch) queues the signal for this thread.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <ruby.h>
#include <ruby/thread.h>

#include "rbweft.h"

int ruby_thread_has_gvl_p(void); /* libruby's; see rbweft.c */

/* Signal numbers this file keeps state for (weft's NSIG is at most this). */
#define SIG_SLOTS 128

static ID id_alive_p, id_name_set, id_raise, id_arity, id_call;

static VALUE signals_thread; /* the Ruby Thread, or nil */
static int signals_alive;    /* it runs (cleared when it ends, and in a child) */
static long handler_id[SIG_SLOTS]; /* callback ids of our weft handlers */
static int n_handlers;             /* signals with one */
static int foreign[SIG_SLOTS];     /* tripped on a thread Ruby does not know */
static int notify[2] = {-1, -1};   /* sigwait, pokes -> the Ruby thread */
static int sigwait_ready;          /* the sigwait pthread runs here */

/* ------------------------------------------------------------- notify */

/* Wake the Ruby thread's wait on `notify`.  Async-signal-safe. */
static void poke(void) {
  if (notify[1] >= 0) {
    int saved = errno;
    char b = 1;
    ssize_t n = write(notify[1], &b, 1);
    (void)n; /* full: the thread has wake-ups pending already */
    errno = saved;
  }
}

static void drain(void) {
  char buf[64];
  while (read(notify[0], buf, sizeof buf) > 0)
    ;
}

static void *sigwait_main(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "weft-rb-sigwait");
  uint64_t seen = 0;
  for (;;) {
    weft_status st = weft_signal_wait(seen, -1, &seen);
    if (st == 0)
      poke();
    else if (st != -EINTR && st != -ETIMEDOUT)
      return NULL; /* cannot wait: explicit dispatches still work */
  }
}

/* The pipe and the sigwait pthread (every signal blocked there); with the
 * GVL held.  0 or -errno. */
static int sigwait_ensure(void) {
  if (sigwait_ready)
    return 0;
  if (notify[0] < 0) {
    if (pipe2(notify, O_CLOEXEC | O_NONBLOCK) < 0) {
      notify[0] = notify[1] = -1;
      return -errno;
    }
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t tid;
  int r = pthread_create(&tid, &attr, sigwait_main, NULL);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r != 0)
    return -r;
  sigwait_ready = 1;
  return 0;
}

/* ------------------------------------------------------------ handlers */

struct run {
  long id;
  int signum;
  int failed; /* for weft: the handler raised here, or the thread dies */
};

static VALUE call_handler(VALUE p) {
  struct run *r = (struct run *)p;
  VALUE proc = weft_rb_callback_get(r->id);
  if (NIL_P(proc))
    return Qnil; /* replaced meanwhile */
  VALUE sig = INT2FIX(r->signum);
  /* Signal.trap's handlers get the number; a lambda that takes nothing
   * is called with nothing. */
  if (rb_respond_to(proc, id_arity) &&
      NUM2INT(rb_funcall(proc, id_arity, 0)) == 0)
    return rb_funcallv(proc, id_call, 0, NULL);
  return rb_funcallv(proc, id_call, 1, &sig);
}

static VALUE raise_in_main(VALUE exc) {
  return rb_funcall(rb_thread_main(), id_raise, 1, exc);
}

/* Runs with the GVL, on a Ruby thread. */
static void *run_handler(void *p) {
  struct run *r = p;
  int state = 0;
  rb_protect(call_handler, (VALUE)r, &state);
  if (state == 0)
    return NULL;
  VALUE err = rb_errinfo();
  if (!rb_obj_is_kind_of(err, rb_eException)) {
    weft_rb_defer(state, Qnil); /* Thread#kill: goes on once weft returns */
    r->failed = 1;
    return NULL;
  }
  rb_set_errinfo(Qnil);
  if (rb_thread_current() != signals_thread) {
    weft_rb_defer(0, err); /* raised by the call that ran the handler */
    r->failed = 1;
    return NULL;
  }
  /* A trap handler's exception is the main thread's, as in Ruby. */
  VALUE main = rb_thread_main();
  if (!RTEST(rb_funcall(main, id_alive_p, 0))) { /* exiting */
    weft_rb_report(err, "signal handler");
    return NULL;
  }
  rb_protect(raise_in_main, err, &state);
  if (state != 0)
    rb_set_errinfo(Qnil);
  return NULL;
}

/* weft's handler for every signal Weft::Signal handles. */
static int handler_fn(void *arg, int signum) {
  if (!ruby_native_thread_p()) {
    /* Not a Ruby thread: never enter Ruby here. */
    if (signum > 0 && signum < SIG_SLOTS) {
      __atomic_store_n(&foreign[signum], 1, __ATOMIC_RELEASE);
      poke();
    }
    return 0;
  }
  struct run r = {(long)(intptr_t)arg, signum, 0};
  if (ruby_thread_has_gvl_p())
    run_handler(&r);
  else /* inside a blocking weft call (WEFT_SIGNAL_WAITS, set elsewhere) */
    rb_thread_call_with_gvl(run_handler, &r);
  return r.failed;
}

/* The handlers tripped on threads Ruby does not know. */
static void run_foreign(void) {
  for (int s = 1; s < SIG_SLOTS; s++) {
    if (__atomic_exchange_n(&foreign[s], 0, __ATOMIC_ACQ_REL) &&
        handler_id[s] != 0) {
      struct run r = {handler_id[s], s, 0};
      run_handler(&r);
      weft_rb_run_deferred();
    }
  }
}

/* Run what is tripped, on the calling Ruby thread, with the GVL.  A
 * handler's exception (or this thread's end) is raised once weft has
 * returned; what stays tripped after it goes to the signals thread. */
static int dispatch_here(int signum) {
  int ran = 0;
  weft_status st = weft_signal_dispatch(signum, &ran);
  if (st == -EINTR)
    poke();
  weft_rb_run_deferred();
  if (st < 0)
    weft_rb_raise(st);
  return ran;
}

/* --------------------------------------------------- the signals thread */

static VALUE signals_loop(VALUE unused) {
  (void)unused;
  for (;;) {
    if (n_handlers == 0 || sigwait_ensure() < 0) {
      rb_thread_sleep_deadly();
      continue;
    }
    rb_thread_wait_fd(notify[0]); /* Ruby's own signals wake it too */
    drain();
    int ran = 0;
    weft_status st;
    do { /* a failure elsewhere leaves the rest tripped: run them too */
      st = weft_signal_dispatch(0, &ran);
      weft_rb_run_deferred(); /* this thread's end (Thread#kill) */
    } while (st == -EINTR);
    run_foreign();
    uint64_t lost = 0;
    int err = 0;
    if (weft_signal_wakeup_errors(&lost, &err) == 0 && lost > 0)
      rb_warn("weft: %llu write(s) to the signal wakeup fd failed: %s",
              (unsigned long long)lost, strerror(err));
  }
  return Qnil;
}

static VALUE signals_ended(VALUE unused) {
  (void)unused;
  signals_alive = 0;
  return Qnil;
}

static VALUE signals_main(void *arg) {
  (void)arg;
  return rb_ensure(signals_loop, Qnil, signals_ended, Qnil);
}

static void signals_start(void) {
  signals_alive = 1;
  signals_thread = rb_thread_create(signals_main, NULL);
  rb_funcall(signals_thread, id_name_set, 1, rb_str_new_cstr("weft-signals"));
}

void weft_rb_signals_watch(void) {
  if (!signals_alive)
    signals_start();
}

/* Tell the thread that n_handlers changed: from a sleep for good to the
 * pipe, or back. */
static void signals_changed(void) {
  if (!signals_alive) {
    if (n_handlers > 0)
      signals_start();
    return;
  }
  rb_thread_wakeup_alive(signals_thread);
  poke();
}

static void after_fork_child(void) {
  /* The child has the pipe (shared with the parent: not ours any more)
   * but neither thread. */
  if (notify[0] >= 0) {
    close(notify[0]);
    close(notify[1]);
    notify[0] = notify[1] = -1;
  }
  sigwait_ready = 0;
  signals_alive = 0;
  signals_thread = Qnil;
  for (int s = 0; s < SIG_SLOTS; s++)
    foreign[s] = 0;
}

/* ------------------------------------------------------------- natives */

struct set {
  int signum, action;
  long id;
  weft_status st;
};

static void *set_nogvl(void *p) {
  struct set *a = p;
  a->st = weft_signal_set(a->signum, a->action, 0,
                          a->action == WEFT_SIG_HANDLER ? handler_fn : NULL,
                          (void *)(intptr_t)a->id);
  return NULL;
}

/* Weft::Native.signal_set(signum, action, handler or nil): WEFT_SIG_DFL,
 * WEFT_SIG_IGN, or WEFT_SIG_HANDLER with a callable (called with the
 * signal number on a Ruby thread).  Without the GVL: weft waits there
 * until the previous handler is no longer running on another thread,
 * which may be a Ruby thread that needs the GVL to finish it. */
static VALUE m_signal_set(VALUE self, VALUE vsig, VALUE vaction,
                          VALUE handler) {
  struct set a = {NUM2INT(vsig), NUM2INT(vaction), 0, 0};
  if (a.signum <= 0 || a.signum >= SIG_SLOTS) {
    int action = 0; /* weft says what is wrong with the number */
    void *arg = NULL;
    weft_status st = weft_signal_get(a.signum, &action, &arg);
    weft_rb_raise(st < 0 ? st : -EINVAL);
  }
  if (a.action == WEFT_SIG_HANDLER) {
    a.id = weft_rb_callback_add(handler); /* TypeError first */
    int r = sigwait_ensure();
    /* Ruby owns delivery: handlers run where this file runs them. */
    if (r == 0)
      r = weft_signal_set_delivery(WEFT_SIGNAL_DISPATCH, 0);
    if (r < 0) {
      weft_rb_callback_drop(a.id);
      weft_rb_raise(r);
    }
  }
  rb_nogvl(set_nogvl, &a, NULL, NULL, 0);
  if (a.st < 0) {
    if (a.id != 0)
      weft_rb_callback_drop(a.id);
    weft_rb_raise(a.st);
  }
  long old = handler_id[a.signum];
  handler_id[a.signum] = a.id;
  if (old != 0)
    weft_rb_callback_drop(old); /* not running elsewhere any more */
  int before = n_handlers;
  n_handlers += (a.id != 0) - (old != 0);
  if ((before == 0) != (n_handlers == 0) || (n_handlers > 0 && !signals_alive))
    signals_changed();
  return Qnil;
}

/* Weft::Native.signal_get(signum) -> [action, handler]: handler is the
 * callable given to signal_set for a handler of ours, nil for every other
 * action, or for a weft handler another language installed. */
static VALUE m_signal_get(VALUE self, VALUE vsig) {
  int signum = NUM2INT(vsig), action = 0;
  void *arg = NULL;
  weft_status st = weft_signal_get(signum, &action, &arg);
  if (st < 0)
    weft_rb_raise(st);
  VALUE handler = Qnil;
  long id = (long)(intptr_t)arg;
  if (action == WEFT_SIG_HANDLER && signum > 0 && signum < SIG_SLOTS &&
      id != 0 && handler_id[signum] == id)
    handler = weft_rb_callback_get(id);
  return rb_assoc_new(INT2NUM(action), handler);
}

/* Weft::Native.signal_dispatch(signum) -> how many handlers ran, here. */
static VALUE m_signal_dispatch(VALUE self, VALUE vsig) {
  return INT2NUM(dispatch_here(NUM2INT(vsig)));
}

/* Weft::Native.signal_raise(signum): raise(3), then, on the main thread,
 * the signal's handler runs before this returns (as Process.kill of the
 * own pid runs a trap handler); elsewhere the signals thread runs it. */
static VALUE m_signal_raise(VALUE self, VALUE vsig) {
  int signum = NUM2INT(vsig);
  weft_status st = weft_signal_raise(signum);
  if (st < 0)
    weft_rb_raise(st);
  if (rb_thread_current() == rb_thread_main())
    dispatch_here(signum);
  return Qnil;
}

static weft_status pause_fn(void *arg) {
  (void)arg;
  return weft_signal_pause();
}

/* Weft::Native.signal_pause: sleep (without the GVL, interruptible) until
 * a signal weft handles arrives; on the main thread its handler has run
 * when this returns. */
static VALUE m_signal_pause(VALUE self) {
  weft_status st = weft_rb_call(pause_fn, NULL, 0, 0);
  if (st < 0)
    weft_rb_raise(st);
  if (rb_thread_current() == rb_thread_main())
    dispatch_here(0);
  return Qnil;
}

/* Weft::Native.signal_strsignal(signum) -> String, or nil if the system
 * has no description. */
static VALUE m_signal_strsignal(VALUE self, VALUE vsig) {
  int signum = NUM2INT(vsig);
  char buf[256];
  size_t len = 0;
  weft_status st = weft_signal_strsignal(signum, buf, sizeof buf, &len);
  if (st == -ENOENT)
    return Qnil;
  while (st == WEFT_ERANGE) {
    VALUE s = rb_utf8_str_new(NULL, (long)len);
    st = weft_signal_strsignal(signum, RSTRING_PTR(s), len + 1, &len);
    if (st == 0) {
      rb_str_set_len(s, (long)len);
      return s;
    }
  }
  if (st < 0)
    weft_rb_raise(st);
  return rb_utf8_str_new(buf, (long)len);
}

/* Weft::Native.signal_after_fork: in a child (Process._fork), start the
 * threads again if there are handlers. */
static VALUE m_signal_after_fork(VALUE self) {
  if (n_handlers > 0) {
    int r = sigwait_ensure();
    if (r < 0)
      weft_rb_raise(r);
    if (!signals_alive)
      signals_start();
  }
  return Qnil;
}

/* Weft::Native.signal_thread -> the "weft-signals" Thread, or nil. */
static VALUE m_signal_thread(VALUE self) {
  return signals_alive ? signals_thread : Qnil;
}

void weft_rb_init_signal(VALUE native) {
  id_alive_p = rb_intern("alive?");
  id_name_set = rb_intern("name=");
  id_raise = rb_intern("raise");
  id_arity = rb_intern("arity");
  id_call = rb_intern("call");
  signals_thread = Qnil;
  rb_gc_register_address(&signals_thread);
  pthread_atfork(NULL, NULL, after_fork_child);

  rb_define_module_function(native, "signal_set", m_signal_set, 3);
  rb_define_module_function(native, "signal_get", m_signal_get, 1);
  rb_define_module_function(native, "signal_dispatch", m_signal_dispatch, 1);
  rb_define_module_function(native, "signal_raise", m_signal_raise, 1);
  rb_define_module_function(native, "signal_pause", m_signal_pause, 0);
  rb_define_module_function(native, "signal_strsignal", m_signal_strsignal,
                            1);
  rb_define_module_function(native, "signal_after_fork", m_signal_after_fork,
                            0);
  rb_define_module_function(native, "signal_thread", m_signal_thread, 0);
}
