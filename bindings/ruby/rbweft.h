/* rbweft.h - the C half of weft's Ruby binding (bindings/ruby/rbweft.c).
 *
 * SWIG wraps the plain calls of abi/weft.h into Weft::Native (the
 * SWIGRUBY block of bindings/weft.i uses what is declared here); this
 * part holds what SWIG cannot express: native exceptions, blocking calls
 * without the GVL, and callbacks into Ruby.
 */
#ifndef WEFT_RBWEFT_H
#define WEFT_RBWEFT_H

#include <errno.h>

#include <ruby.h>

#include "weft.h"

/* Define Weft::Error and its classes, the hand-written methods of
 * Weft::Native, and the dispatcher; called from Init_native. */
void weft_rb_init(VALUE native);

/* Raise the native exception for a negative status: Errno::* for -errno,
 * a Weft::*Error class for weft's own codes.  Every exception carries the
 * thread's weft_last_error_message(), #code and #detail, and is a
 * Weft::Error (a module mixed into each). */
NORETURN(void weft_rb_raise(weft_status st));

/* What a failed I/O call was waiting for, so that "it would block" is
 * Ruby's IO::EAGAINWaitReadable, IO::EAGAINWaitWritable or
 * IO::EINPROGRESSWaitWritable (as read_nonblock raises) rather than a
 * plain Errno::EAGAIN. */
#define WEFT_RB_IO_NONE 0
#define WEFT_RB_IO_READ 1
#define WEFT_RB_IO_WRITE 2

/* weft_rb_raise for an I/O call; -EINPROGRESS is a WaitWritable. */
NORETURN(void weft_rb_raise_io(weft_status st, int io));

/* The exception weft_rb_raise_io would raise, for the caller to add to
 * (and raise with rb_exc_raise). */
VALUE weft_rb_error(weft_status st, int io);

/* Argument conversions: a TypeError or RangeError instead of a silent
 * truncation or wrap-around.  SWIG's own go through rb_rescue, which
 * costs more than a Lock acquire. */
weft_handle weft_rb_handle(VALUE v);
double weft_rb_double(VALUE v);
size_t weft_rb_size(VALUE v);

/* A blocking weft call in the shape weft_rb_wait takes. */
typedef weft_status (*weft_rb_wait_fn)(weft_handle h, double timeout,
                                       void *out);

/* weft_rb_wait's flags. */
#define WEFT_RB_POLL 1  /* first try with timeout 0, keeping the GVL */

/* Make a blocking call without the GVL, so other Ruby threads run.
 * Thread#kill, Thread#raise and signals reach it through weft_thread_
 * interrupt; the call then returns having done nothing, Ruby runs its
 * pending interrupts (which may raise), and the call is made again with
 * the time that is left (PEP 475).  WEFT_RB_POLL: a first attempt with
 * timeout 0 keeps the GVL, so an uncontended acquire costs no thread
 * switch.  May raise. */
weft_status weft_rb_wait(weft_rb_wait_fn fn, weft_handle h, double timeout,
                         void *out, int flags);

/* The general form, for calls whose arguments do not fit weft_rb_wait's
 * (sockets, streams, select): fn(arg) runs without the GVL, and is called
 * again after each -EINTR once Ruby's interrupts have run (they may
 * raise).  fn keeps its progress in arg, so a retry resumes (sendall
 * from what was sent).  `timed`, a socket or a stream (flag
 * WEFT_RB_STREAM_TIMED) whose own timeout the call waits by: weft starts
 * that timeout afresh on each call, so a retry after the timeout has run
 * out since the first one returns -ETIMEDOUT instead (a call waits at
 * most twice its timeout, however many signals come).  0 for none.
 * WEFT_RB_UNINTERRUPTIBLE: no unblocking function (resolver calls, which
 * weft cannot interrupt); Ruby's interrupts run when it returns. */
#define WEFT_RB_STREAM_TIMED 4
#define WEFT_RB_UNINTERRUPTIBLE 8
typedef weft_status (*weft_rb_call_fn)(void *arg);
weft_status weft_rb_call(weft_rb_call_fn fn, void *arg, int flags,
                         weft_handle timed);

/* Callbacks weft holds as ids (its void *arg), never as VALUEs: add
 * raises TypeError unless proc responds to #call; get gives Qnil once the
 * id was dropped. */
long weft_rb_callback_add(VALUE proc);
VALUE weft_rb_callback_get(long id);
void weft_rb_callback_drop(long id);

/* A callback that ran inside a weft call must not longjmp through weft:
 * it leaves what is to be done on this thread, a tag to resume (state,
 * from rb_protect: Thread#kill) or else exc to raise, and
 * weft_rb_run_deferred does it once weft has returned (weft_rb_call
 * does, after each call). */
void weft_rb_defer(int state, VALUE exc);
void weft_rb_run_deferred(void);

/* Run fn(arg) holding the GVL on a Ruby thread, from any thread: on this
 * one if Ruby knows it (taking the GVL if it waits in C without it),
 * else queued to the binding's dispatcher thread while the caller waits.
 * fn must not raise (rb_protect inside).  0, or the dispatcher's failure
 * (WEFT_ECLOSED at exit: fn did not run).  Callers start the dispatcher
 * thread first (weft_rb_dispatcher_ensure, with the GVL). */
weft_status weft_rb_with_gvl(void *(*fn)(void *), void *arg);
void weft_rb_dispatcher_ensure(void);

/* Report an exception nobody waits for, as Ruby reports one that ends a
 * Thread ("weft <what> terminated with exception ..."). */
void weft_rb_report(VALUE exc, const char *what);

/* The signals thread (rbsignal.c): called before each wait of the main
 * thread while it is not Ruby's only thread, so that Ruby's own signals
 * reach it; cheap once the thread runs. */
void weft_rb_signals_watch(void);

/* Define the signal functions of Weft::Native (rbsignal.c); called from
 * weft_rb_init. */
void weft_rb_init_signal(VALUE native);

/* Define Weft::FFI's C classes (rbffi.c); called from weft_rb_init. */
void weft_rb_init_ffi(VALUE native);

/* Conversions of the socket module (rbsocket.c). */
uint32_t weft_rb_u32(VALUE v);

/* Define the socket, select and io functions of Weft::Native (rbsocket.c);
 * called from weft_rb_init. */
void weft_rb_init_socket(VALUE native);

/* The blocking calls in weft_rb_wait's shape. */
weft_status weft_rb_thread_join(weft_handle h, double timeout, void *out);
weft_status weft_rb_thread_shutdown(weft_handle h, double timeout, void *out);
weft_status weft_rb_sleep(weft_handle h, double timeout, void *out);
weft_status weft_rb_lock_acquire(weft_handle h, double timeout, void *out);
weft_status weft_rb_rlock_acquire(weft_handle h, double timeout, void *out);
weft_status weft_rb_condition_acquire(weft_handle h, double timeout,
                                      void *out);
weft_status weft_rb_condition_wait(weft_handle h, double timeout, void *out);
weft_status weft_rb_semaphore_acquire(weft_handle h, double timeout,
                                      void *out);
weft_status weft_rb_event_wait(weft_handle h, double timeout, void *out);
weft_status weft_rb_barrier_wait(weft_handle h, double timeout, void *out);
weft_status weft_rb_barrier_wait_default(weft_handle h, double timeout,
                                         void *out);
weft_status weft_rb_dispatcher_run(weft_handle h, double timeout, void *out);

#endif /* WEFT_RBWEFT_H */
