/*
 * weft.h - the whole public interface of libweft, and its reference manual.
 *
 * weft gives any language Python's "threads and communication" toolkit
 * through one flat C ABI.  The rules every declaration below follows are in
 * ABI.md (handles, status codes, time, strings, callbacks, constants); the
 * short version:
 *
 *   - Every object lives behind a weft_handle (an int64_t, > 0, < 2^53).
 *     weft_close() closes a handle of any kind.  A closed, never-issued or
 *     wrong-kind handle gives WEFT_EBADHANDLE, never a crash.  A _new call
 *     with 2^24 handles of its kind open gives -EMFILE.
 *   - Every function that can fail returns weft_status: 0 on success,
 *     -errno for an OS error, or a WEFT_E* code (<= WEFT_ERR_BASE).  Results
 *     go to out-parameters, which come last.  A NULL out-parameter is
 *     WEFT_EVALUE.  After a failure, weft_last_error_message() says what
 *     went wrong on this thread, with specifics.
 *   - Timeouts are double seconds: < 0 waits forever, 0 polls, > 0 sets a
 *     deadline on the monotonic clock.  A wait that runs out returns
 *     -ETIMEDOUT.
 *   - Output strings go to a caller's buffer (buf, cap, len): *len gets the
 *     full length (without the NUL); a buffer that is too small gives
 *     WEFT_ERANGE and the caller retries with *len + 1 bytes.
 *   - Every function is thread-safe unless its comment says otherwise.
 *
 * This header parses with cffi's cdef() and LuaJIT's ffi.cdef() after the
 * preprocessor; define WEFT_CDEF to skip the system includes when doing so.
 */
#ifndef WEFT_H
#define WEFT_H

#ifndef WEFT_CDEF
#include <stddef.h>
#include <stdint.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if defined(WEFT_BUILDING) && defined(__GNUC__)
#define WEFT_API __attribute__((visibility("default")))
#else
#define WEFT_API
#endif

#define WEFT_VERSION_MAJOR 0
#define WEFT_VERSION_MINOR 1
#define WEFT_VERSION_PATCH 0

typedef int64_t weft_handle;
typedef int weft_status;

/* ======================================================================
 * Status codes
 *
 * OS errors are -errno.  weft's own conditions are below; their numbers
 * never change once released.  They are also readable by name through
 * weft_constant_get ("WEFT_EBADHANDLE", ...).
 * ====================================================================== */
#define WEFT_OK          0
#define WEFT_ERR_BASE    (-10000)
#define WEFT_EBADHANDLE  (-10000) /* closed, never issued or wrong kind    */
#define WEFT_ECLOSED     (-10001) /* closed while this call waited on it   */
#define WEFT_ESTATE      (-10002) /* wrong state: started twice, not owner */
#define WEFT_EVALUE      (-10003) /* bad argument value, NULL pointer      */
#define WEFT_ERANGE      (-10004) /* output buffer too small               */
#define WEFT_EGAI        (-10005) /* name resolution failed (detail: EAI)  */
#define WEFT_ESSL        (-10006) /* TLS failure (detail: OpenSSL reason)  */
#define WEFT_EFFI        (-10007) /* libffi refused a signature or call    */
#define WEFT_ENOTSUP     (-10008) /* not supported on this platform/build  */
#define WEFT_EBROKEN     (-10009) /* barrier broken (BrokenBarrierError)   */
#define WEFT_EHOST       (-10010) /* host entry lookup failed (detail: h_errno) */

/* Symbolic name of a status ("WEFT_ECLOSED", "ETIMEDOUT", "OK").  Never
 * NULL; unknown codes give "UNKNOWN".  The string is static. */
WEFT_API const char *weft_err_name(weft_status code);

/* Human text for a status ("handle closed", "Connection timed out").
 * Never NULL.  The string is static. */
WEFT_API const char *weft_strerror(weft_status code);

/* Message about the last failure of a weft call on this thread, with the
 * specifics ("lock_release: release of an unlocked lock").  "" if no call
 * has failed on this thread.  The string belongs to weft and stays valid
 * until the next failing weft call on this thread. */
WEFT_API const char *weft_last_error_message(void);

/* The status of the last failure on this thread (0 if none). */
WEFT_API weft_status weft_last_error_code(void);

/* The detail code of the last failure on this thread: the errno value, the
 * EAI_* code, the OpenSSL reason; 0 if there is none. */
WEFT_API int weft_last_error_detail(void);

/* ======================================================================
 * Version
 * ====================================================================== */

/* The run-time version, "MAJOR.MINOR.PATCH".  Static string. */
WEFT_API const char *weft_version(void);

/* The run-time version as MAJOR * 10000 + MINOR * 100 + PATCH. */
WEFT_API int weft_version_number(void);

/* ======================================================================
 * Handles
 * ====================================================================== */

/* Handle kinds, as reported by weft_handle_kind (also constants by name:
 * "WEFT_KIND_LOCK", ...). */
#define WEFT_KIND_THREAD     1
#define WEFT_KIND_TIMER      2
#define WEFT_KIND_LOCK       3
#define WEFT_KIND_RLOCK      4
#define WEFT_KIND_CONDITION  5
#define WEFT_KIND_SEMAPHORE  6
#define WEFT_KIND_EVENT      7
#define WEFT_KIND_LOCAL      8
#define WEFT_KIND_HOOK       9
#define WEFT_KIND_BARRIER   10
#define WEFT_KIND_DISPATCHER 11
#define WEFT_KIND_SOCKET     12
#define WEFT_KIND_POLLER     13
#define WEFT_KIND_STREAM     14
#define WEFT_KIND_ADDRINFO   15
#define WEFT_KIND_FFI_TYPE   16
#define WEFT_KIND_FFI_LIBRARY 17
#define WEFT_KIND_FFI_FUNCTION 18
#define WEFT_KIND_FFI_CLOSURE 19

/* Close a handle of any kind.  Threads blocked on it wake with
 * WEFT_ECLOSED; memory is released when the last of them is done.
 * Closing twice gives WEFT_EBADHANDLE.  What close means for a running
 * thread is under weft_thread_new. */
WEFT_API weft_status weft_close(weft_handle h);

/* The kind of an open handle (WEFT_KIND_*).  WEFT_EBADHANDLE if h is not
 * open. */
WEFT_API weft_status weft_handle_kind(weft_handle h, int *kind);

/* ======================================================================
 * Constants
 *
 * Every constant a caller may need, with the platform's real value, by
 * name: weft's status codes and kinds, errno names, the socket module's
 * (AF_*, SOCK_*, SO_*, MSG_*, ..., listed under "socket: addresses") and
 * the select module's (POLL*, EPOLL*) and the signal module's (SIG*,
 * NSIG, ITIMER_*, SIG_BLOCK, ...).
 * ====================================================================== */

/* Value of the constant `name`.  -ENOENT if there is no such constant. */
WEFT_API weft_status weft_constant_get(const char *name, int64_t *value);

/* Number of constants, for enumeration with weft_constant_at. */
WEFT_API size_t weft_constant_count(void);

/* The index-th constant (0-based, in a stable order): its name into
 * (name, cap, name_len) and its value into *value.  -ENOENT past the end,
 * WEFT_ERANGE if cap is too small (name_len and value are still set). */
WEFT_API weft_status weft_constant_at(size_t index, char *name, size_t cap,
                                      size_t *name_len, int64_t *value);

/* ======================================================================
 * Time
 * ====================================================================== */

/* Seconds on the monotonic clock (CLOCK_MONOTONIC), for deadlines. */
WEFT_API double weft_monotonic(void);

/* Sleep for `seconds` (>= 0; negative is WEFT_EVALUE), resuming after
 * signals with the remaining time. */
WEFT_API weft_status weft_sleep(double seconds);

/* ======================================================================
 * threading: Thread
 *
 * A thread runs a target callback on a new OS thread.  The target's return
 * value is its status (0 for success), readable after it finishes.
 *
 * Lifetime: a thread handle stays valid while its thread is alive.
 * weft_close on a finished or never-started thread releases the handle at
 * once.  weft_close on a running thread gives up the caller's claim (like
 * pthread_detach): the thread runs on and its handle is released when it
 * finishes; closing it again before then gives WEFT_EBADHANDLE.  Handles
 * returned by weft_thread_current, weft_thread_main and
 * weft_thread_enumerate are borrowed: do not close them.
 * ====================================================================== */

/* A thread's target, and a timer's function.  Runs on a thread weft
 * started.  The return value is the thread's status (0 = success). */
typedef int (*weft_thread_fn)(void *arg);

/* Create an unstarted thread that will call target(arg).  target may be
 * NULL (the thread does nothing).  name NULL gives "Thread-N".  The daemon
 * flag is inherited from the calling thread. */
WEFT_API weft_status weft_thread_new(weft_thread_fn target, void *arg,
                                     const char *name, weft_handle *out);

/* Start the thread.  WEFT_ESTATE if it was already started. */
WEFT_API weft_status weft_thread_start(weft_handle thread);

/* Wait until the thread finishes, at most `timeout` seconds.  -ETIMEDOUT if
 * it is still alive then.  WEFT_ESTATE when joining the calling thread
 * itself, a thread that was never started, or a dummy thread.  A thread
 * can be joined many times. */
WEFT_API weft_status weft_thread_join(weft_handle thread, double timeout);

/* *alive = 1 from the moment start returns until the target returns. */
WEFT_API weft_status weft_thread_is_alive(weft_handle thread, int *alive);

/* The thread's name (see the string rules at the top). */
WEFT_API weft_status weft_thread_get_name(weft_handle thread, char *buf,
                                          size_t cap, size_t *len);

/* Rename the thread.  For threads and timers weft runs, the OS name
 * (pthread_setname_np; what top -H and gdb show) is set too, truncated to
 * 15 bytes on a UTF-8 boundary; the main and dummy threads keep theirs
 * (renaming the main thread would rename the process). */
WEFT_API weft_status weft_thread_set_name(weft_handle thread,
                                          const char *name);

/* The thread's identifier (as weft_thread_current_ident returns in it),
 * or 0 if it has not started.  Identifiers may be reused after a thread
 * exits. */
WEFT_API weft_status weft_thread_get_ident(weft_handle thread,
                                           uint64_t *ident);

/* The thread's kernel id (gettid), or 0 if it has not started. */
WEFT_API weft_status weft_thread_get_native_id(weft_handle thread,
                                               int64_t *native_id);

/* The daemon flag (0 or 1).  The process's shutdown does not wait for
 * daemon threads. */
WEFT_API weft_status weft_thread_get_daemon(weft_handle thread, int *daemon);

/* Set the daemon flag; WEFT_ESTATE once the thread has started. */
WEFT_API weft_status weft_thread_set_daemon(weft_handle thread, int daemon);

/* The target's return value.  WEFT_ESTATE until the thread has finished. */
WEFT_API weft_status weft_thread_get_result(weft_handle thread, int *result);

/* The calling thread's handle (borrowed).  A thread weft did not start
 * (an "alien" thread) gets a dummy entry: always alive, daemonic, not
 * joinable, and released when that thread exits. */
WEFT_API weft_status weft_thread_current(weft_handle *out);

/* The main thread's handle (borrowed): the process's initial thread. */
WEFT_API weft_status weft_thread_main(weft_handle *out);

/* Handles (borrowed) of every alive thread: started threads, running or
 * pending timers, dummy threads and the main thread.  *n receives the
 * count; WEFT_ERANGE if cap is smaller (the first cap are filled). */
WEFT_API weft_status weft_thread_enumerate(weft_handle *buf, size_t cap,
                                           size_t *n);

/* The number of alive threads: the length enumerate would give. */
WEFT_API weft_status weft_thread_active_count(size_t *count);

/* Wait until every alive non-daemon thread (timers included) has finished,
 * at most `timeout` seconds; -ETIMEDOUT if some are still alive.  Python's
 * exit rule: bindings call this when the interpreter exits.  Threads
 * started while it waits are waited for too. */
WEFT_API weft_status weft_thread_shutdown(double timeout);

/* The stack size used for threads created from now on; 0 is the platform
 * default. */
WEFT_API weft_status weft_thread_get_stack_size(size_t *size);

/* Set it: 0, or at least 32768 bytes (WEFT_EVALUE otherwise, and the size
 * is unchanged). */
WEFT_API weft_status weft_thread_set_stack_size(size_t size);

/* A start hook runs in each thread weft starts (timers included), before
 * its target: Python's settrace/setprofile.  `thread` is the new thread's
 * handle (borrowed), or 0 in a weft_thread_start_new thread. */
typedef void (*weft_thread_hook_fn)(void *arg, weft_handle thread);

/* Install a start hook; it stays until its handle (WEFT_KIND_HOOK) is
 * closed.  Hooks run in the order they were installed.  Once weft_close
 * of a hook returns, no other thread is running it or will run it. */
WEFT_API weft_status weft_thread_hook_new(weft_thread_hook_fn hook,
                                          void *arg, weft_handle *out);

/* ----------------------------------------------------------------------
 * The low-level thread module (_thread).  allocate_lock is weft_lock_new.
 * ---------------------------------------------------------------------- */

/* Start a new thread running fn(arg), with no handle to manage (it is
 * daemonic and not listed by enumerate); *ident receives its identifier. */
WEFT_API weft_status weft_thread_start_new(weft_thread_fn fn, void *arg,
                                           uint64_t *ident);

/* The calling thread's identifier: a nonzero integer, unique among alive
 * threads. */
WEFT_API uint64_t weft_thread_current_ident(void);

/* The calling thread's kernel id (gettid). */
WEFT_API int64_t weft_thread_current_native_id(void);

/* End the calling thread as if its target had returned `result`.  Only
 * for threads weft started (WEFT_ESTATE elsewhere); does not return on
 * success. */
WEFT_API weft_status weft_thread_exit(int result);

/* Simulate the arrival of signal `signum` (SIGINT by convention) for the
 * main thread, as CPython's _thread.interrupt_main does: if signum has a
 * weft handler it is tripped (and delivered as a real signal would be,
 * see "signal"); with any other action nothing happens.  No signal is
 * sent.  -EINVAL for a bad signal number. */
WEFT_API weft_status weft_thread_interrupt_main(int signum);

/* ----------------------------------------------------------------------
 * For bindings: adoption and interruption
 * ---------------------------------------------------------------------- */

/* Start an unstarted thread on the calling thread instead of a new OS
 * thread: the thread becomes alive, the start hooks run, then its target,
 * and when the target returns the thread finishes (joins return, the
 * result is readable) and this call returns 0.  While it runs,
 * weft_thread_current on this OS thread gives `thread`, whose ident and
 * native id are this thread's.  For runtimes whose code may run only on
 * threads of their own (a Ruby Thread adopted as a weft thread).
 *
 * Only a thread weft did not start may adopt (WEFT_ESTATE otherwise, and
 * for a thread that was started before, or for a timer).  The OS name is
 * left alone; weft_thread_exit is refused (WEFT_ESTATE) in an adopted
 * thread: return from the target instead. */
WEFT_API weft_status weft_thread_adopt(weft_handle thread);

/* Interrupt `thread`'s blocking weft call: the one it is blocked in now
 * or, if it is in none, its next one returns -EINTR.  The blocking calls
 * are the waits of thread_join, thread_shutdown, sleep, the acquires of
 * Lock, RLock, Condition and Semaphore, condition_wait, event_wait,
 * barrier_wait and dispatcher_run, and every wait of the socket, select
 * and io calls (accept, connect, send*, recv*, select_wait, poller_poll,
 * stream reads, writes and flushes); a call that can finish without
 * blocking does so and leaves the interrupt pending.  A call that returns
 * -EINTR has had no effect: nothing is acquired, condition_wait has
 * re-acquired the lock, barrier_wait has left its cycle without breaking
 * it, a socket or stream call has sent or received nothing (sendall and
 * stream_write report what went before), a connect leaves its attempt
 * running for the next connect to wait on.  The caller runs its own
 * pending work and calls again with the time that is left (PEP 475).  For
 * a binding's unblocking function (Ruby's Thread#kill and Ctrl-C).
 * `thread` is any thread handle: a started thread, a running timer, a
 * dummy or the main thread.  Interrupting a thread that is not alive does
 * nothing. */
WEFT_API weft_status weft_thread_interrupt(weft_handle thread);

/* Drop the calling thread's pending interrupt, if it has one: *was_pending
 * = 1 if it had, else 0.  For a binding whose interrupts reach
 * weft asynchronously (Ruby's unblocking function hands them to a helper
 * thread): one that lands after the call it was meant for has returned
 * would otherwise end the thread's next call, which may belong to another
 * of the host's threads on the same OS thread (Ruby's thread cache). */
WEFT_API weft_status weft_thread_interrupt_clear(int *was_pending);

/* ======================================================================
 * threading: Timer
 *
 * A timer is a thread (every weft_thread_* call accepts its handle) whose
 * target runs once, `interval` seconds after start, unless cancelled
 * first.  A pending timer holds no thread of its own: all pending timers
 * share one service thread, and a due function runs on a pooled worker.
 * The ident and native id are 0 until the function starts running.
 * ====================================================================== */

/* Create an unstarted timer (name "Thread-N" style when NULL). interval
 * must be >= 0 (WEFT_EVALUE otherwise). */
WEFT_API weft_status weft_timer_new(double interval, weft_thread_fn fn,
                                    void *arg, const char *name,
                                    weft_handle *out);

/* Cancel the timer if its function has not started; a cancelled timer
 * finishes at once (joins return) and its result is WEFT_ECLOSED.
 * Cancelling a running or finished timer does nothing. */
WEFT_API weft_status weft_timer_cancel(weft_handle timer);

/* ======================================================================
 * threading: Lock, RLock
 *
 * acquire(timeout): 0 when acquired; -ETIMEDOUT when not acquired within
 * timeout (timeout 0: at once).  Closing the lock wakes waiters with
 * WEFT_ECLOSED.
 * ====================================================================== */

/* A primitive lock: any thread may release it.  Also _thread's
 * allocate_lock. */
WEFT_API weft_status weft_lock_new(weft_handle *out);
WEFT_API weft_status weft_lock_acquire(weft_handle lock, double timeout);
/* WEFT_ESTATE if the lock is not locked. */
WEFT_API weft_status weft_lock_release(weft_handle lock);
WEFT_API weft_status weft_lock_locked(weft_handle lock, int *locked);

/* A reentrant lock: the owning thread may acquire it again; it must
 * release it as many times. */
WEFT_API weft_status weft_rlock_new(weft_handle *out);
WEFT_API weft_status weft_rlock_acquire(weft_handle rlock, double timeout);
/* WEFT_ESTATE if the calling thread does not own the lock. */
WEFT_API weft_status weft_rlock_release(weft_handle rlock);
/* *owned = 1 if the calling thread holds the lock. */
WEFT_API weft_status weft_rlock_is_owned(weft_handle rlock, int *owned);

/* ======================================================================
 * threading: Condition
 * ====================================================================== */

/* A condition variable over `lock`, a Lock or RLock handle (0: a new RLock
 * that the condition owns and closes with itself).  The condition refers
 * to the lock by handle: closing the lock makes the condition's calls
 * fail with WEFT_EBADHANDLE. */
WEFT_API weft_status weft_condition_new(weft_handle lock, weft_handle *out);

/* Acquire / release the underlying lock. */
WEFT_API weft_status weft_condition_acquire(weft_handle cond, double timeout);
WEFT_API weft_status weft_condition_release(weft_handle cond);

/* Release the lock, wait for a notify (or the timeout), re-acquire the
 * lock, in that order, whatever the outcome.  0 if notified, -ETIMEDOUT,
 * WEFT_ECLOSED if the condition was closed.  WEFT_ESTATE if the calling
 * thread does not hold the lock.  After WEFT_ECLOSED a caller's lock is
 * held again (release it through its own handle); a lock the condition
 * made itself is closed with the condition. */
WEFT_API weft_status weft_condition_wait(weft_handle cond, double timeout);

/* Wake up to n waiters (Python's notify(n)).  WEFT_ESTATE if the calling
 * thread does not hold the lock. */
WEFT_API weft_status weft_condition_notify(weft_handle cond, size_t n);
WEFT_API weft_status weft_condition_notify_all(weft_handle cond);

/* ======================================================================
 * threading: Semaphore, BoundedSemaphore
 * ====================================================================== */

/* A semaphore with an initial value >= 0 (WEFT_EVALUE otherwise). */
WEFT_API weft_status weft_semaphore_new(int64_t value, weft_handle *out);
/* A bounded semaphore: releasing above the initial value is WEFT_EVALUE.
 * It is a semaphore handle; the calls below serve both. */
WEFT_API weft_status weft_bounded_semaphore_new(int64_t value,
                                                weft_handle *out);
/* Decrement, waiting while the value is 0.  0 or -ETIMEDOUT. */
WEFT_API weft_status weft_semaphore_acquire(weft_handle sem, double timeout);
/* Increment by n >= 1, waking up to n waiters. */
WEFT_API weft_status weft_semaphore_release(weft_handle sem, int64_t n);
WEFT_API weft_status weft_semaphore_get_value(weft_handle sem,
                                              int64_t *value);

/* ======================================================================
 * threading: Event
 * ====================================================================== */

WEFT_API weft_status weft_event_new(weft_handle *out);
/* Set the flag and wake every waiter. */
WEFT_API weft_status weft_event_set(weft_handle event);
WEFT_API weft_status weft_event_clear(weft_handle event);
WEFT_API weft_status weft_event_is_set(weft_handle event, int *is_set);
/* 0 once the flag is set (at once if it is), -ETIMEDOUT otherwise. */
WEFT_API weft_status weft_event_wait(weft_handle event, double timeout);

/* ======================================================================
 * threading: Barrier
 *
 * A barrier for a fixed number of parties: each party calls wait, and
 * once the last one has arrived all of them are released together.  The
 * barrier is reusable: after a cycle is released it fills again for the
 * next one.  A thread that arrives while the previous cycle is still
 * leaving (or its action runs) waits for that to finish and joins the next
 * cycle.  The states are CPython's (Lib/threading.py): filling, draining,
 * resetting, broken.
 *
 * The barrier breaks when a wait times out, when the action fails, or on
 * weft_barrier_abort: every thread waiting in it wakes with WEFT_EBROKEN
 * (Python's BrokenBarrierError), and so does every later wait, until
 * weft_barrier_reset.  Closing the barrier wakes its waiters with
 * WEFT_ECLOSED.
 * ====================================================================== */

/* A barrier's action: runs once per cycle, in the last thread to arrive
 * (the one whose index is parties - 1), before any thread of the cycle is
 * released.  Nonzero means the action failed (Python: it raised): the
 * barrier breaks and every thread of the cycle, the one that ran it
 * included, gets WEFT_EBROKEN.  It runs with no lock of the barrier held
 * (CPython holds the barrier's lock), so it may call the barrier's
 * functions; a reset or abort made while it runs (by it or by another
 * thread) counts as made before the cycle was released: every thread of
 * the cycle gets WEFT_EBROKEN.  Threads arriving meanwhile wait for the
 * next cycle. */
typedef int (*weft_barrier_action_fn)(void *arg);

/* A barrier for `parties` threads (>= 1; WEFT_EVALUE otherwise).  action
 * may be NULL; it is called as action(arg).  timeout is the barrier's
 * default timeout, used by weft_barrier_wait_default: < 0 waits forever;
 * NaN is WEFT_EVALUE. */
WEFT_API weft_status weft_barrier_new(int64_t parties,
                                      weft_barrier_action_fn action,
                                      void *arg, double timeout,
                                      weft_handle *out);

/* Wait until `parties` threads have called wait; then all return 0 and
 * *index receives this thread's place in the cycle, 0 .. parties - 1,
 * unique among the cycle's threads (the last to arrive gets parties - 1
 * and runs the action).
 *
 * timeout bounds the wait for the other parties; it counts from the moment
 * this thread joins a cycle (a thread that arrives while the previous
 * cycle drains first waits, unbounded, for it to finish, as in Python).  A
 * wait that runs out breaks the barrier: every thread of the cycle gets
 * WEFT_EBROKEN, the one that timed out with weft_last_error_detail()
 * ETIMEDOUT (Python raises BrokenBarrierError in all of them).  A timeout
 * of 0 polls: it succeeds only for the last party.
 *
 * WEFT_EBROKEN: the barrier was broken when this thread arrived, or was
 * broken, aborted or reset while it waited, or the action failed.
 * WEFT_ECLOSED: the barrier was closed while this thread waited. */
WEFT_API weft_status weft_barrier_wait(weft_handle barrier, double timeout,
                                       int64_t *index);

/* weft_barrier_wait with the barrier's default timeout (the one given to
 * weft_barrier_new): Python's wait() and wait(None).
 *
 * Why a function of its own: every double already has a meaning in a
 * timeout (< 0 forever, 0 poll, > 0 a deadline, NaN refused), so there is
 * no value left to say "the default"; and having the binding pass the
 * default itself would need it to remember the default (wrong for a
 * barrier made through another binding: handles are process-wide) or to
 * read it back first (two calls, and a getter that exists only for this).
 * This way the default stays where it was given. */
WEFT_API weft_status weft_barrier_wait_default(weft_handle barrier,
                                               int64_t *index);

/* Return the barrier to the empty, filling state.  Threads waiting in it
 * wake with WEFT_EBROKEN; threads that arrive before they have all left
 * wait for that, then join a new cycle.  A broken barrier becomes usable
 * again. */
WEFT_API weft_status weft_barrier_reset(weft_handle barrier);

/* Break the barrier: threads waiting in it wake with WEFT_EBROKEN, and so
 * does every wait until weft_barrier_reset.  (Python: for a party that
 * knows it will not come, so the others do not wait forever.) */
WEFT_API weft_status weft_barrier_abort(weft_handle barrier);

/* The number of parties given to weft_barrier_new. */
WEFT_API weft_status weft_barrier_get_parties(weft_handle barrier,
                                              int64_t *parties);

/* The number of threads waiting in the current cycle; 0 while the
 * barrier drains, resets or is broken.  A snapshot, as in Python. */
WEFT_API weft_status weft_barrier_get_n_waiting(weft_handle barrier,
                                                int64_t *n_waiting);

/* *broken = 1 if the barrier is broken, else 0. */
WEFT_API weft_status weft_barrier_is_broken(weft_handle barrier,
                                            int *broken);

/* ======================================================================
 * threading: local (thread-local storage)
 *
 * A local holds one void * per thread, NULL until that thread sets it.
 * When a thread exits (weft's or alien), dtor(dtor_arg, value) runs on it
 * for its non-NULL value; a timer's function returning counts as its
 * thread exiting.  Closing the local runs dtor, on the closing thread, for
 * every thread's remaining value, and returns once no destructor of the
 * local runs on any other thread.
 * ====================================================================== */

typedef void (*weft_local_dtor_fn)(void *arg, void *value);

/* dtor may be NULL. */
WEFT_API weft_status weft_local_new(weft_local_dtor_fn dtor, void *dtor_arg,
                                    weft_handle *out);
/* Replace the calling thread's value (the old one is not destroyed). */
WEFT_API weft_status weft_local_set(weft_handle local, void *value);
WEFT_API weft_status weft_local_get(weft_handle local, void **value);

/* ======================================================================
 * Dispatcher
 *
 * A queue of calls that a thread of the host's choosing runs: for
 * runtimes that cannot be entered from a thread weft started (Ruby, a Lua
 * state).  A binding's callback that finds itself on a foreign thread
 * queues its work here and (usually) waits; the host drains the queue
 * from its own thread, from a loop of its own (weft_dispatcher_run) or
 * when the wakeup descriptor polls readable.
 * ====================================================================== */

typedef void (*weft_dispatch_fn)(void *arg);

WEFT_API weft_status weft_dispatcher_new(weft_handle *out);

/* Queue fn(arg).  wait = 0: return at once; fn runs later, or never if
 * the dispatcher is closed first (drain with weft_dispatcher_run before
 * closing when fn owns arg).  wait = 1: return 0 once fn has run (on the
 * draining thread), or WEFT_ECLOSED if the dispatcher was closed before
 * it ran (then it never runs).  A call made with wait = 1 from a thread
 * that is running this dispatcher's queue runs fn at once, inline. */
WEFT_API weft_status weft_dispatcher_call(weft_handle dispatcher,
                                          weft_dispatch_fn fn, void *arg,
                                          int wait);

/* Run queued calls on the calling thread: wait up to `timeout` for the
 * queue to be non-empty, then run calls until it is empty (calls queued
 * meanwhile included).  *ran receives the number run.  -ETIMEDOUT if none
 * came; WEFT_ECLOSED if the dispatcher was closed while waiting.  Several
 * threads may run one dispatcher; each call runs once. */
WEFT_API weft_status weft_dispatcher_run(weft_handle dispatcher,
                                         double timeout, size_t *ran);

/* A descriptor that polls readable while calls are queued, for hosts
 * that drain from an event loop: when it is readable, call
 * weft_dispatcher_run(d, 0, &n).  Owned by the dispatcher (do not read
 * or close it); close-on-exec. */
WEFT_API weft_status weft_dispatcher_fd(weft_handle dispatcher, int *fd);

/* ======================================================================
 * socket: addresses
 *
 * Socket calls take and give addresses as the platform's struct sockaddr,
 * as bytes: (const void *addr, size_t addr_len) in, (void *addr, size_t
 * addr_cap, size_t *addr_len) out.  Bindings do not read them: they make
 * one from (host, port, ...) with weft_sockaddr_make and read one back
 * with weft_sockaddr_parse, so every family works the same way in every
 * language.  An output address buffer must hold WEFT_SOCKADDR_MAX bytes
 * (checked before anything happens, so an accepted connection or a
 * received datagram is never lost to a small buffer: WEFT_ERANGE, with
 * *addr_len = WEFT_SOCKADDR_MAX); NULL with addr_cap 0 means "not wanted"
 * (*addr_len is then 0).
 *
 * Families, types, protocols, options and flags are the platform's own
 * values, readable by name (weft_constant_get("AF_INET"), "SOCK_STREAM",
 * "SO_REUSEADDR", "MSG_PEEK", "AI_CANONNAME", "EAI_NONAME", ...): every
 * AF_*, SOCK_*, SO_*, SOL_*, IPPROTO_*, IPPORT_*, INADDR_*, IP_*, IPV6_*,
 * TCP_*, MSG_*, SCM_*, AI_*, NI_*, EAI_*, SHUT_*, TIPC_*, SIO_*, RCVALL_*,
 * POLL*, EPOLL* option or flag the platform's headers define (CPython's
 * socket and select names, and more), and SOMAXCONN; values are never
 * invented for a name the platform lacks (nor for the TCP_* connection
 * states and IPPORT_* services, which are not options).
 * ====================================================================== */

/* The size of the largest address weft gives out (struct
 * sockaddr_storage).  Also the constant "WEFT_SOCKADDR_MAX". */
#define WEFT_SOCKADDR_MAX 128

/* Make an address of `family` into (addr, addr_cap, addr_len):
 *
 *   AF_INET   host is an IPv4 address ("127.0.0.1"), "" (INADDR_ANY),
 *             "<broadcast>" (INADDR_BROADCAST) or a host name, which is
 *             resolved (getaddrinfo; the first IPv4 result is used).
 *             flowinfo and scope_id must be 0.
 *   AF_INET6  host is an IPv6 address ("::1", "fe80::1%eth0": a zone
 *             sets scope_id when scope_id is 0), "" (in6addr_any) or a
 *             host name (the first IPv6 result).  flowinfo < 2^20.
 *   AF_UNIX   host is the path's bytes (host_len of them; not text, so it
 *             may hold any byte): a path, a Linux abstract name (first
 *             byte NUL; may hold more NULs), or empty (autobind).  port,
 *             flowinfo and scope_id must be 0.
 *
 * port is 0..65535.  host is (host, host_len), not NUL-terminated;
 * host_len 0 is "".  Errors: WEFT_EVALUE (a port, flowinfo or scope_id out
 * of range, a path too long, an address that does not parse, with the
 * reason in the message), -EAFNOSUPPORT (another family), WEFT_EGAI (the
 * name did not resolve: detail is the EAI_* code, the message
 * gai_strerror's text).  Resolving a name blocks and is not
 * interruptible. */
WEFT_API weft_status weft_sockaddr_make(int family, const void *host,
                                        size_t host_len, int port,
                                        uint32_t flowinfo, uint32_t scope_id,
                                        void *addr, size_t addr_cap,
                                        size_t *addr_len);

/* Read an address: its family, its host into (host, host_cap, host_len),
 * and port, flowinfo and scope_id (0 where the family has none).  The
 * host of AF_INET and AF_INET6 is numeric text ("::1"); of AF_UNIX the
 * path's bytes (an abstract name starts with NUL and may hold more;
 * *host_len counts them all; an unnamed socket gives "").  The usual
 * string rule: WEFT_ERANGE if host_cap < *host_len + 1 (the other
 * outputs are set).  -EAFNOSUPPORT for a family other than those three
 * (*family is still set); WEFT_EVALUE for a length too short for the
 * family it names. */
WEFT_API weft_status weft_sockaddr_parse(const void *addr, size_t addr_len,
                                         int *family, char *host,
                                         size_t host_cap, size_t *host_len,
                                         int *port, uint32_t *flowinfo,
                                         uint32_t *scope_id);

/* ======================================================================
 * socket: sockets
 *
 * A socket is a handle (WEFT_KIND_SOCKET) over a descriptor that is
 * close-on-exec from the moment it exists (SOCK_CLOEXEC, accept4,
 * F_DUPFD_CLOEXEC) and never blocks underneath (O_NONBLOCK, and
 * MSG_DONTWAIT on every send and receive): the socket's mode is weft's,
 * as in Python, one of three:
 *
 *   blocking     timeout < 0 (Python's None): calls wait as long as it
 *                takes.
 *   non-blocking timeout 0: a call that cannot finish at once returns
 *                -EAGAIN (connect: -EINPROGRESS) having done nothing.
 *   timeout      timeout > 0: each call waits at most that long, on the
 *                monotonic clock, across signals and spurious wake-ups,
 *                then returns -ETIMEDOUT having done nothing (sendall:
 *                see there).
 *
 * A new socket takes the module's default timeout
 * (weft_socket_set_default_timeout; blocking at first).  Every wait is
 * interruptible: weft_thread_interrupt makes it return -EINTR having done
 * nothing, and a binding calls again with the time left (PEP 475).
 *
 * No call raises SIGPIPE: sends use MSG_NOSIGNAL and report -EPIPE.
 *
 * Closing (weft_close) a socket that other threads are blocked in (recv,
 * accept, connect, send, ...) wakes them with WEFT_ECLOSED; the
 * descriptor is closed once the last of them has left, so it is never
 * reused under a thread that still uses it.  Closing also removes the
 * socket from every poller it is registered with.
 * ====================================================================== */

/* A new socket (socket(2)).  type may carry SOCK_NONBLOCK (the socket
 * starts non-blocking) and SOCK_CLOEXEC (always on anyway); the type
 * weft_socket_get_type reports is without them.  proto 0 picks the
 * family's default. */
WEFT_API weft_status weft_socket_new(int family, int type, int proto,
                                     weft_handle *out);

/* A connected pair (socketpair(2)); family is usually AF_UNIX. */
WEFT_API weft_status weft_socket_pair_new(int family, int type, int proto,
                                          weft_handle *first,
                                          weft_handle *second);

/* A socket over a duplicate of fd (Python's fromfd): fd itself stays the
 * caller's.  family, type or proto -1 is read from the descriptor
 * (SO_DOMAIN, SO_TYPE, SO_PROTOCOL).  -ENOTSOCK if fd is not a socket,
 * -EBADF if it is not open.  The file status flags, which the two
 * descriptors share, are left alone (sends and receives pass
 * MSG_DONTWAIT), until the first accept or connect, which needs
 * O_NONBLOCK and sets it (as Python does for a socket with a timeout). */
WEFT_API weft_status weft_socket_fromfd_new(int fd, int family, int type,
                                            int proto, weft_handle *out);

/* Close the socket's handle without closing its descriptor, which
 * becomes the caller's (*fd; still O_NONBLOCK).  Blocked threads wake
 * with WEFT_ECLOSED, as for weft_close. */
WEFT_API weft_status weft_socket_detach(weft_handle sock, int *fd);

/* The descriptor (owned by the socket: do not close it; it is valid while
 * the handle is open). */
WEFT_API weft_status weft_socket_fileno(weft_handle sock, int *fd);

/* The family, type (without SOCK_NONBLOCK and SOCK_CLOEXEC) and protocol
 * the socket was made with. */
WEFT_API weft_status weft_socket_get_family(weft_handle sock, int *family);
WEFT_API weft_status weft_socket_get_type(weft_handle sock, int *type);
WEFT_API weft_status weft_socket_get_proto(weft_handle sock, int *proto);

/* The mode (see above): timeout < 0 blocking, 0 non-blocking, > 0 that
 * many seconds per call.  NaN is WEFT_EVALUE. */
WEFT_API weft_status weft_socket_set_timeout(weft_handle sock,
                                             double timeout);
/* -1 when blocking. */
WEFT_API weft_status weft_socket_get_timeout(weft_handle sock,
                                             double *timeout);
/* blocking 1: set_timeout(-1); 0: set_timeout(0). */
WEFT_API weft_status weft_socket_set_blocking(weft_handle sock,
                                              int blocking);
/* *blocking = 0 in non-blocking mode, 1 in the other two. */
WEFT_API weft_status weft_socket_get_blocking(weft_handle sock,
                                              int *blocking);

/* The timeout new sockets start with (process-wide; -1, blocking, until
 * set).  Sockets made before keep theirs. */
WEFT_API weft_status weft_socket_get_default_timeout(double *timeout);
WEFT_API weft_status weft_socket_set_default_timeout(double timeout);

/* bind(2). */
WEFT_API weft_status weft_socket_bind(weft_handle sock, const void *addr,
                                      size_t addr_len);

/* listen(2); a backlog < 0 is 0 (the system caps a large one at its own
 * limit, net.core.somaxconn on Linux). */
WEFT_API weft_status weft_socket_listen(weft_handle sock, int backlog);

/* Accept a connection: *out is the new socket (mode: the default
 * timeout), the peer's address goes to (addr, addr_cap, addr_len). */
WEFT_API weft_status weft_socket_accept(weft_handle sock, void *addr,
                                        size_t addr_cap, size_t *addr_len,
                                        weft_handle *out);

/* Connect to addr.  Non-blocking mode: -EINPROGRESS while the connection
 * is under way (wait for it to poll writable, then read SO_ERROR).  A
 * blocking or timeout-mode connect that was interrupted (-EINTR) leaves
 * the attempt running, and the next connect on the socket waits for it
 * instead of starting another (as CPython does after a signal).  After
 * -ETIMEDOUT the socket is unusable for another connect on most
 * platforms, as in Python. */
WEFT_API weft_status weft_socket_connect(weft_handle sock, const void *addr,
                                         size_t addr_len);

/* connect, with the outcome of the connection as an errno value in *err
 * (0: connected; EINPROGRESS, ECONNREFUSED, ...; a timeout gives EAGAIN,
 * as CPython's connect_ex does) and a status only for what is not the
 * connection's own outcome (a bad handle or address; -EINTR for an
 * interrupt; WEFT_ECLOSED). */
WEFT_API weft_status weft_socket_connect_ex(weft_handle sock,
                                            const void *addr,
                                            size_t addr_len, int *err);

/* The socket's own address and its peer's. */
WEFT_API weft_status weft_socket_getsockname(weft_handle sock, void *addr,
                                             size_t addr_cap,
                                             size_t *addr_len);
WEFT_API weft_status weft_socket_getpeername(weft_handle sock, void *addr,
                                             size_t addr_cap,
                                             size_t *addr_len);

/* shutdown(2): how is SHUT_RD, SHUT_WR or SHUT_RDWR. */
WEFT_API weft_status weft_socket_shutdown(weft_handle sock, int how);

/* Socket options, as an int and as bytes.  getsockopt_bytes: cap is the
 * most that is read (1..1024, as in Python; WEFT_EVALUE otherwise) and *n
 * what the option filled. */
WEFT_API weft_status weft_socket_getsockopt(weft_handle sock, int level,
                                            int name, int *value);
WEFT_API weft_status weft_socket_getsockopt_bytes(weft_handle sock,
                                                  int level, int name,
                                                  void *buf, size_t cap,
                                                  size_t *n);
WEFT_API weft_status weft_socket_setsockopt(weft_handle sock, int level,
                                            int name, int value);
WEFT_API weft_status weft_socket_setsockopt_bytes(weft_handle sock,
                                                  int level, int name,
                                                  const void *buf,
                                                  size_t len);

/* Send from (buf, len); *sent bytes went (maybe fewer than len).  flags
 * are MSG_*; MSG_NOSIGNAL is always added, MSG_DONTWAIT makes this one
 * call non-blocking.  len above SSIZE_MAX (a negative size through an
 * FFI) is WEFT_EVALUE. */
WEFT_API weft_status weft_socket_send(weft_handle sock, const void *buf,
                                      size_t len, int flags, size_t *sent);

/* Send all of (buf, len), through partial sends, signals and waits.  In
 * timeout mode the timeout bounds the whole call, not each send.  On
 * failure (-ETIMEDOUT, -EAGAIN in non-blocking mode, -EPIPE, -EINTR,
 * WEFT_ECLOSED, ...) *sent still says how many bytes went, exactly, so a
 * caller can resume from buf + *sent and nothing is sent twice. */
WEFT_API weft_status weft_socket_sendall(weft_handle sock, const void *buf,
                                         size_t len, int flags,
                                         size_t *sent);

/* Send a datagram to addr. */
WEFT_API weft_status weft_socket_sendto(weft_handle sock, const void *buf,
                                        size_t len, int flags,
                                        const void *addr, size_t addr_len,
                                        size_t *sent);

/* Receive up to cap bytes into buf; *n = 0 at end of stream (or for an
 * empty datagram).  This is also Python's recv_into.  With MSG_WAITALL
 * the call waits for all cap bytes; it returns fewer (status 0) only at
 * the end of the stream, or when a timeout, an interrupt, a close or an
 * error came after some bytes had: those bytes are returned (as recv(2)
 * does), so nothing received is lost, and the next call meets the
 * condition again (an interrupt stays pending for it; an error the
 * system reported once may not come back).  cap above SSIZE_MAX is
 * WEFT_EVALUE. */
WEFT_API weft_status weft_socket_recv(weft_handle sock, int flags,
                                      void *buf, size_t cap, size_t *n);

/* recv, with the sender's address (Python's recvfrom and
 * recvfrom_into). */
WEFT_API weft_status weft_socket_recvfrom(weft_handle sock, int flags,
                                          void *buf, size_t cap, size_t *n,
                                          void *addr, size_t addr_cap,
                                          size_t *addr_len);

/* Connect to (host, port) (Python's create_connection): try every
 * address getaddrinfo gives for it (SOCK_STREAM), in order, until one
 * connects; each try binds first to (source_host, source_port) when
 * source_host is not NULL, and connects with `timeout` (which the socket
 * keeps).  port and source_port are numbers or service names (NULL:
 * 0).  The error is the last try's, with every try in the message;
 * WEFT_EGAI if the name does not resolve. */
WEFT_API weft_status weft_socket_create_connection(const char *host,
                                                   const char *port,
                                                   double timeout,
                                                   const char *source_host,
                                                   const char *source_port,
                                                   weft_handle *out);

/* ======================================================================
 * socket: name resolution
 *
 * Resolver failures are WEFT_EGAI, with the EAI_* code as the detail
 * (weft_last_error_detail) and gai_strerror's text in the message;
 * EAI_SYSTEM is the -errno it stands for.  A host entry lookup of
 * gethostbyname_ex or gethostbyaddr that fails after the name resolved
 * (h_errno) is WEFT_EHOST, with h_errno as the detail (HOST_NOT_FOUND 1,
 * TRY_AGAIN 2, NO_RECOVERY 3, NO_DATA 4) and hstrerror's text ("Unknown
 * host"): Python's herror, where WEFT_EGAI is its gaierror.  Resolving
 * blocks (DNS) and is not interruptible.
 * ====================================================================== */

/* getaddrinfo(3): resolve (host, port) into a list of results, a handle
 * (WEFT_KIND_ADDRINFO) read with the calls below and closed with
 * weft_close.  host and port may be NULL (not both: WEFT_EVALUE); port
 * is a service name or a number, 0..65535 (WEFT_EVALUE otherwise, where
 * getaddrinfo(3) would wrap it).  family (AF_UNSPEC: 0), type, proto and
 * flags (AI_*) filter as in getaddrinfo(3). */
WEFT_API weft_status weft_addrinfo_new(const char *host, const char *port,
                                       int family, int type, int proto,
                                       int flags, weft_handle *out);

/* The number of results. */
WEFT_API weft_status weft_addrinfo_count(weft_handle ai, size_t *count);

/* Result `index` (0-based; -ENOENT past the end): Python's (family,
 * type, proto, canonname, sockaddr) without canonname, which is
 * weft_addrinfo_canonname's. */
WEFT_API weft_status weft_addrinfo_get(weft_handle ai, size_t index,
                                       int *family, int *type, int *proto,
                                       void *addr, size_t addr_cap,
                                       size_t *addr_len);

/* Result index's canonical name: "" unless AI_CANONNAME was asked for
 * (then the first result has it). */
WEFT_API weft_status weft_addrinfo_canonname(weft_handle ai, size_t index,
                                             char *buf, size_t cap,
                                             size_t *len);

/* getnameinfo(3): addr's host and service, as text, by NI_* flags.  Two
 * outputs: WEFT_ERANGE if either is too small (both lengths are set;
 * NI_MAXHOST = 1025 and NI_MAXSERV = 32 bytes always suffice). */
WEFT_API weft_status weft_socket_getnameinfo(const void *addr,
                                             size_t addr_len, int flags,
                                             char *host, size_t host_cap,
                                             size_t *host_len, char *serv,
                                             size_t serv_cap,
                                             size_t *serv_len);

/* A host name's first IPv4 address, as text; an IPv4 address is returned
 * as it is. */
WEFT_API weft_status weft_socket_gethostbyname(const char *name, char *buf,
                                               size_t cap, size_t *len);

/* Python's gethostbyname_ex(name): (hostname, aliases, addresses), as one
 * string of three lines, "hostname\naliases\naddresses", each list
 * separated by spaces (host names and addresses hold neither), either
 * list possibly empty: "localhost\n\n127.0.0.1".  IPv4 only. */
WEFT_API weft_status weft_socket_gethostbyname_ex(const char *name,
                                                  char *buf, size_t cap,
                                                  size_t *len);

/* Python's gethostbyaddr(address): the same three lines for an IPv4 or
 * IPv6 address (a host name is resolved first). */
WEFT_API weft_status weft_socket_gethostbyaddr(const char *address,
                                               char *buf, size_t cap,
                                               size_t *len);

/* The machine's host name (gethostname(2)). */
WEFT_API weft_status weft_socket_gethostname(char *buf, size_t cap,
                                             size_t *len);

/* A fully qualified name for `name` (NULL or "": this host), as Python's
 * getfqdn: the first name with a dot among gethostbyaddr's host name and
 * aliases, else the name itself. */
WEFT_API weft_status weft_socket_getfqdn(const char *name, char *buf,
                                         size_t cap, size_t *len);

/* A service's port ("http" -> 80); proto "tcp", "udp" or NULL (any).
 * -ENOENT if there is no such service. */
WEFT_API weft_status weft_socket_getservbyname(const char *name,
                                               const char *proto,
                                               int *port);

/* A port's service name (80 -> "http").  port 0..65535 (WEFT_EVALUE
 * otherwise); -ENOENT if none is known. */
WEFT_API weft_status weft_socket_getservbyport(int port, const char *proto,
                                               char *buf, size_t cap,
                                               size_t *len);

/* A protocol's number ("tcp" -> 6); -ENOENT if unknown. */
WEFT_API weft_status weft_socket_getprotobyname(const char *name,
                                                int *proto);

/* ======================================================================
 * socket: address and byte-order helpers
 * ====================================================================== */

/* Dotted-quad text (inet_aton(3) forms: "127.1" too) to 4 bytes.
 * WEFT_EVALUE if it does not parse; WEFT_ERANGE if cap < 4. */
WEFT_API weft_status weft_socket_inet_aton(const char *text, void *buf,
                                           size_t cap, size_t *n);

/* 4 bytes to dotted-quad text; len must be 4 (WEFT_EVALUE). */
WEFT_API weft_status weft_socket_inet_ntoa(const void *packed, size_t len,
                                           char *buf, size_t cap,
                                           size_t *text_len);

/* Text to the packed address of family (AF_INET: 4 bytes, AF_INET6: 16).
 * WEFT_EVALUE if it does not parse, -EAFNOSUPPORT for another family. */
WEFT_API weft_status weft_socket_inet_pton(int family, const char *text,
                                           void *buf, size_t cap,
                                           size_t *n);

/* A packed address (len 4 for AF_INET, 16 for AF_INET6: WEFT_EVALUE
 * otherwise) to text. */
WEFT_API weft_status weft_socket_inet_ntop(int family, const void *packed,
                                           size_t len, char *buf,
                                           size_t cap, size_t *text_len);

/* Byte order: 32-bit (0..2^32-1) and 16-bit (0..65535) values; one out
 * of range, negative included, is WEFT_EVALUE (Python's OverflowError). */
WEFT_API weft_status weft_socket_htonl(int64_t x, int64_t *out);
WEFT_API weft_status weft_socket_ntohl(int64_t x, int64_t *out);
WEFT_API weft_status weft_socket_htons(int64_t x, int64_t *out);
WEFT_API weft_status weft_socket_ntohs(int64_t x, int64_t *out);

/* *has = 1 if this system can make IPv6 sockets. */
WEFT_API weft_status weft_socket_has_ipv6(int *has);

/* ======================================================================
 * select: select and pollers
 *
 * Both wait on handles: sockets, and Events (POLLIN while set, and
 * always POLLOUT: a thread can wait for data and for an Event in one
 * call).  Pollers also take raw descriptors.  Readiness bits are the platform's POLLIN,
 * POLLPRI, POLLOUT, POLLRDHUP, POLLERR, POLLHUP (by name, as constants);
 * a poller also takes EPOLLET (edge-triggered) and EPOLLONESHOT.  Both
 * waits are interruptible (weft_thread_interrupt: -EINTR) and resume
 * across signals with the time left.
 * ====================================================================== */

/* Python's select.select over handles, without select(2)'s FD_SETSIZE
 * limit (it is poll(2) underneath).  Each array is rewritten in place:
 * its ready handles first, in their order, and *rn, *wn, *xn say how many
 * (0 for each on -ETIMEDOUT).  Ready for reading: POLLIN, POLLHUP or
 * POLLERR (a read would not block); for writing: POLLOUT or POLLERR;
 * exceptional: POLLPRI, as select(2) counts them.  An array may be NULL
 * when its count is 0 (WEFT_EVALUE otherwise).  A handle that is neither
 * a socket nor an Event, or is closed, is WEFT_EBADHANDLE (nothing is
 * rewritten); closing one while the call waits ends it with
 * WEFT_ECLOSED.  With something ready, a pending interrupt stays pending:
 * the call reports what is ready. */
WEFT_API weft_status weft_select_wait(weft_handle *rlist, size_t nr,
                                      weft_handle *wlist, size_t nw,
                                      weft_handle *xlist, size_t nx,
                                      double timeout, size_t *rn,
                                      size_t *wn, size_t *xn);

/* A poller (WEFT_KIND_POLLER): epoll on Linux, poll(2) elsewhere; flags
 * WEFT_POLLER_POLL asks for the poll(2) backend here too (for testing
 * it).  Any number of threads may use one poller; closing it wakes those
 * blocked in weft_poller_poll with WEFT_ECLOSED. */
#define WEFT_POLLER_POLL 1
WEFT_API weft_status weft_poller_new(int flags, weft_handle *out);

/* Watch `target` (a socket or an Event handle) for `events`; a wait
 * reports `key` with the bits that are ready.  -EEXIST if target is
 * registered already; WEFT_EVALUE for unknown bits.  Closing the target
 * unregisters it.  The poll(2) backend emulates EPOLLET for handles: a
 * reported bit stays quiet until an operation on the socket would block
 * (the point where an edge-triggered reader stops) or the registration is
 * modified; a thread already asleep in that backend's poll sees such a
 * re-arm within 10 ms. */
WEFT_API weft_status weft_poller_register(weft_handle poller,
                                          weft_handle target,
                                          uint32_t events, int64_t key);
/* Change the events and key of a registration (-ENOENT if there is
 * none); this also re-arms an EPOLLONESHOT registration. */
WEFT_API weft_status weft_poller_modify(weft_handle poller,
                                        weft_handle target, uint32_t events,
                                        int64_t key);
/* -ENOENT if target is not registered. */
WEFT_API weft_status weft_poller_unregister(weft_handle poller,
                                            weft_handle target);

/* The same for a raw descriptor, which stays the caller's: unregister it
 * before closing it (the kernel's rule for epoll).  The poll(2) backend
 * treats EPOLLET on a raw descriptor as EPOLLONESHOT. */
WEFT_API weft_status weft_poller_register_fd(weft_handle poller, int fd,
                                             uint32_t events, int64_t key);
WEFT_API weft_status weft_poller_modify_fd(weft_handle poller, int fd,
                                           uint32_t events, int64_t key);
WEFT_API weft_status weft_poller_unregister_fd(weft_handle poller, int fd);

/* The epoll descriptor (owned by the poller: do not close it), which
 * polls readable while registrations are ready, so a poller can sit in
 * another event loop (Python's epoll.fileno).  WEFT_ENOTSUP for the
 * poll(2) backend. */
WEFT_API weft_status weft_poller_fileno(weft_handle poller, int *fd);

/* Wait up to `timeout` for registrations to be ready, then fill up to
 * cap (>= 1) pairs (keys[i], events[i]); *n is how many.  More ready
 * than cap are reported by the next call.  -ETIMEDOUT if none was
 * ready in time (*n = 0). */
WEFT_API weft_status weft_poller_poll(weft_handle poller, double timeout,
                                      int64_t *keys, uint32_t *events,
                                      size_t cap, size_t *n);

/* ======================================================================
 * io: buffered streams
 *
 * A stream (WEFT_KIND_STREAM) is Python's buffered binary file over a
 * descriptor: a socket's (weft_socket_makefile) or any other (a pipe, a
 * file, a terminal).  It works on its own duplicate of the descriptor,
 * so the stream and the socket (or the caller's descriptor) close
 * independently, as in Python.
 *
 * Reads never lose data: a read that fails (-ETIMEDOUT, -EAGAIN, -EINTR,
 * WEFT_ECLOSED, an error) keeps whatever it had read in the stream's
 * buffer for the next read, and hands out nothing.  So in non-blocking
 * mode read(n) with fewer than n bytes there is -EAGAIN, not a short
 * read (a short read means the end of the stream); read1 returns what is
 * there.  readline and readall follow the string rule for bytes:
 * WEFT_ERANGE with *n the size needed (nothing is NUL-terminated), the
 * data staying buffered for the call that has room; a retry after the
 * end of the stream returns the same bytes without reading again.
 * Reads and writes may run at once on one stream (Python's
 * BufferedRWPair): each side has its own lock, and a thread waiting for
 * a side another thread holds is interruptible and woken by close.  A
 * call on the side its own thread holds (a signal handler run inside a
 * read, reading the same stream) fails with WEFT_ESTATE, as CPython's
 * "reentrant call" RuntimeError.
 *
 * A socket's descriptor is read and written with MSG_DONTWAIT; any other
 * is put in O_NONBLOCK mode, which a duplicate shares with the original:
 * the caller's pipe or terminal becomes non-blocking too (mind one shared
 * with other programs).  A stream has
 * a timeout like a socket's: weft_socket_makefile copies the socket's
 * timeout of that moment (Python's SocketIO reads it on every call);
 * weft_stream_new starts blocking.  weft_close flushes first and returns
 * the flush's status (the handle is closed whatever it is): a writer
 * blocked on the stream wakes with WEFT_ECLOSED, then the close writes
 * out what is buffered, within the stream's timeout (interruptible).
 * ====================================================================== */

/* A stream over a duplicate of fd.  mode has 'r' and/or 'w' ('b' is
 * accepted and means nothing: streams are bytes); buffering -1 is the
 * default size (8192), 0 unbuffered (each read is one read(2), readline
 * reads byte by byte, each write is written at once), 1 line-buffered
 * writes (a write holding '\n' flushes), > 1 the buffer's size. */
WEFT_API weft_status weft_stream_new(int fd, const char *mode,
                                     int64_t buffering, weft_handle *out);

/* Python's socket.makefile: a stream over a duplicate of the socket's
 * descriptor, with its timeout. */
WEFT_API weft_status weft_socket_makefile(weft_handle sock,
                                          const char *mode,
                                          int64_t buffering,
                                          weft_handle *out);

/* Read up to cap bytes: until cap bytes came or the end of the stream (a
 * short *n means the end; 0 at the end).  Unbuffered: at most one
 * read(2). */
WEFT_API weft_status weft_stream_read(weft_handle stream, void *buf,
                                      size_t cap, size_t *n);

/* Read up to cap bytes with at most one read(2) (none if data is
 * buffered): Python's read1. */
WEFT_API weft_status weft_stream_read1(weft_handle stream, void *buf,
                                       size_t cap, size_t *n);

/* Read to the end of the stream (string rule: WEFT_ERANGE keeps it). */
WEFT_API weft_status weft_stream_readall(weft_handle stream, void *buf,
                                         size_t cap, size_t *n);

/* Read a line: through the next '\n' (kept), at most `limit` bytes
 * (limit < 0: no limit), or to the end of the stream (0 bytes at the
 * end).  String rule: WEFT_ERANGE keeps the line. */
WEFT_API weft_status weft_stream_readline(weft_handle stream, int64_t limit,
                                          void *buf, size_t cap, size_t *n);

/* Write (buf, len) into the buffer, writing it out as it fills.
 * *written is how much of buf the stream took; it is less than len only
 * on failure (-EAGAIN, -ETIMEDOUT, -EPIPE, ...; the rest was not
 * taken). */
WEFT_API weft_status weft_stream_write(weft_handle stream, const void *buf,
                                       size_t len, size_t *written);

/* Write out what is buffered. */
WEFT_API weft_status weft_stream_flush(weft_handle stream);

/* The stream's descriptor (its own duplicate; do not close it). */
WEFT_API weft_status weft_stream_fileno(weft_handle stream, int *fd);

/* *readable / *writable = 1 if the mode allows reading / writing. */
WEFT_API weft_status weft_stream_readable(weft_handle stream,
                                          int *readable);
WEFT_API weft_status weft_stream_writable(weft_handle stream,
                                          int *writable);

/* The stream's timeout, as for sockets. */
WEFT_API weft_status weft_stream_set_timeout(weft_handle stream,
                                             double timeout);
WEFT_API weft_status weft_stream_get_timeout(weft_handle stream,
                                             double *timeout);

/* ======================================================================
 * signal
 *
 * Handlers in any language, run at safe points, never inside the C
 * signal handler.  The C handler weft installs only records the signal:
 * it sets the signal's trip flag, then writes the signal number (one
 * byte) to the wakeup descriptor if one is set, then (WEFT_SIGNAL_CHAIN)
 * calls the C handler that was installed before weft's, saving and
 * restoring errno (CPython's trip_signal order: flags first, then the
 * write).  A tripped handler runs later on a thread of the host's
 * choosing, the delivery mode (weft_signal_set_delivery):
 *
 *   WEFT_SIGNAL_DISPATCH  only when a thread calls weft_signal_dispatch;
 *   WEFT_SIGNAL_WAITS     also inside any blocking weft call made by the
 *                         dispatching thread (the main thread unless
 *                         another is named): the call wakes, runs the
 *                         tripped handlers on that thread with no lock of
 *                         weft's held, and resumes with the time that is
 *                         left (PEP 475).  The default.
 *   WEFT_SIGNAL_THREAD    on a thread weft owns ("weft-signals"), as soon
 *                         as a signal is tripped.
 *
 * weft_signal_dispatch works in every mode, on any thread.  A handler that
 * returns nonzero has failed: the blocking call it interrupted returns
 * -EINTR at once (with the no-effect guarantees of weft_thread_interrupt)
 * so that the binding raises the handler's exception, and the handlers of
 * signals still tripped run at the next safe point.  In every mode a
 * signal delivered to another thread, or during a condition-variable
 * wait, still reaches the dispatching thread: weft's signal thread wakes
 * its blocking call.
 *
 * Blocking calls: every weft call that blocks (see weft_thread_interrupt)
 * retries after a signal with its deadline unchanged; none returns -EINTR
 * because of a signal unless a handler failed.
 *
 * Threads: signal numbers are 1 .. NSIG-1; SIGKILL and SIGSTOP cannot be
 * caught or ignored (-EINVAL); numbers glibc keeps for itself (32, 33)
 * give -EINVAL too.  Any thread may set handlers (the bindings keep
 * Python's rule: only the main thread).  weft never changes a
 * disposition unless asked (ABI.md 10).
 *
 * fork: the child keeps the dispositions; its pending (tripped, not yet
 * run) signals are cleared, and weft's signal thread is made again when a
 * later weft_signal_* call needs it.  exec: handled signals return to
 * SIG_DFL, ignored ones stay ignored (POSIX); weft's descriptors are
 * close-on-exec.
 * ====================================================================== */

/* A handler: runs at a safe point (above) with the signal number.
 * Return 0, or nonzero to fail (the interrupted call returns -EINTR). */
typedef int (*weft_signal_fn)(void *arg, int signum);

/* A binding's check (weft_signal_set_check): 0, or nonzero to fail. */
typedef int (*weft_signal_check_fn)(void *arg);

/* Actions (weft_signal_set, weft_signal_get); by name also as SIG_DFL and
 * SIG_IGN (Python's Handlers). */
#define WEFT_SIG_DFL 0     /* the default action */
#define WEFT_SIG_IGN 1     /* ignored */
#define WEFT_SIG_HANDLER 2 /* a weft_signal_fn, run at safe points */
#define WEFT_SIG_FOREIGN 3 /* a C handler weft did not install (get only) */

/* Flags of weft_signal_set. */
#define WEFT_SIGNAL_CHAIN 1 /* also call the previous C handler */

/* Delivery modes (weft_signal_set_delivery). */
#define WEFT_SIGNAL_DISPATCH 0
#define WEFT_SIGNAL_WAITS 1
#define WEFT_SIGNAL_THREAD 2

/* Set the action for `signum`: WEFT_SIG_DFL, WEFT_SIG_IGN, or
 * WEFT_SIG_HANDLER with fn (NULL otherwise: WEFT_EVALUE) and its arg.
 * Installs the disposition at once (sigaction, SA_ONSTACK, no SA_RESTART:
 * as CPython's signal(), this resets siginterrupt to interrupting).
 * flags: 0 or WEFT_SIGNAL_CHAIN (only with WEFT_SIG_HANDLER): weft's C
 * handler then calls, in signal context, the C handler that was installed
 * when this call was made (a host runtime's own, such as CPython's); a
 * previous SIG_DFL or SIG_IGN is not chained.  -EINVAL for a bad signal
 * number, SIGKILL, SIGSTOP, an unknown action or flag.  When this returns,
 * the previous handler of signum is no longer running on another thread
 * (it may be running on this one, if this is called from it), so its arg
 * may be released. */
WEFT_API weft_status weft_signal_set(int signum, int action, int flags,
                                     weft_signal_fn fn, void *arg);

/* The action for `signum` (as above; WEFT_SIG_FOREIGN for a C handler
 * installed by someone else) and, for WEFT_SIG_HANDLER, its arg (NULL
 * otherwise).  -EINVAL for a bad signal number. */
WEFT_API weft_status weft_signal_get(int signum, int *action, void **arg);

/* Run the tripped handlers on the calling thread: those of `signum`, or
 * of every signal if signum is 0.  *ran receives how many ran.  0, or
 * -EINTR if a handler failed (the rest stay tripped); -EINVAL for a bad
 * signal number. */
WEFT_API weft_status weft_signal_dispatch(int signum, int *ran);

/* Choose where handlers run (WEFT_SIGNAL_*, above).  `thread` names the
 * dispatching thread of WEFT_SIGNAL_WAITS (0: the main thread; an alive
 * thread handle otherwise, WEFT_ESTATE if it is not alive); it must be 0
 * in the other modes.  -EINVAL for an unknown mode. */
WEFT_API weft_status weft_signal_set_delivery(int delivery,
                                              weft_handle thread);
WEFT_API weft_status weft_signal_get_delivery(int *delivery,
                                              weft_handle *thread);

/* For bindings whose runtime has signal handling of its own (CPython's
 * PyErr_CheckSignals): set fn(arg) to be called on the dispatching thread
 * inside a blocking weft call that a signal interrupted (any signal,
 * weft's or not; after the tripped handlers ran).  Nonzero from fn fails
 * the call with -EINTR, as a handler's failure does.  fn NULL removes it.
 * One check per process: a second one replaces the first. */
WEFT_API weft_status weft_signal_set_check(weft_signal_check_fn fn,
                                           void *arg);

/* Wait up to `timeout` until a signal with a weft handler has been
 * tripped since the trip count was `seen`; *now receives the count (pass
 * it as `seen` next time; start from any value, e.g. 0, which returns at
 * once if anything was ever tripped).  0, or -ETIMEDOUT.  Runs and
 * consumes nothing: for a binding's own dispatching thread (Ruby), which
 * then calls weft_signal_dispatch.  Interruptible (weft_thread_interrupt). */
WEFT_API weft_status weft_signal_wait(uint64_t seen, double timeout,
                                      uint64_t *now);

/* Set the wakeup descriptor (-1: none); *old_fd receives the previous
 * one (-1 if none).  The descriptor must be non-blocking (WEFT_EVALUE
 * otherwise; -EBADF if it is not open).  The C handler writes the signal
 * number as one byte; a failed write (a full pipe) is counted, and with
 * warn_on_full_buffer = 0 a full buffer (EAGAIN) is not. */
WEFT_API weft_status weft_signal_set_wakeup_fd(int fd,
                                               int warn_on_full_buffer,
                                               int *old_fd);

/* Writes to the wakeup descriptor that failed since the last call, and
 * the errno of the last one (0 if none); both are reset. */
WEFT_API weft_status weft_signal_wakeup_errors(uint64_t *count,
                                               int *last_errno);

/* alarm(2): SIGALRM in `seconds` (0 cancels); *previous receives the
 * seconds that were left of the previous alarm (0 if none). */
WEFT_API weft_status weft_signal_alarm(unsigned int seconds,
                                       unsigned int *previous);

/* Sleep until a signal that weft handles arrives and its handler has run
 * (on the dispatching thread in WEFT_SIGNAL_WAITS mode; elsewhere this
 * returns once the signal is tripped).  0, or -EINTR if the handler
 * failed or the thread was interrupted. */
WEFT_API weft_status weft_signal_pause(void);

/* setitimer(2) on `which` (ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF, by
 * name from weft_constant_get): fire after `seconds` (0 disarms), then
 * every `interval` seconds (0: once).  The old values go to *old_seconds
 * and *old_interval.  -EINVAL for a bad `which` or a negative or
 * non-finite time. */
WEFT_API weft_status weft_signal_setitimer(int which, double seconds,
                                           double interval,
                                           double *old_seconds,
                                           double *old_interval);
WEFT_API weft_status weft_signal_getitimer(int which, double *seconds,
                                           double *interval);

/* siginterrupt(3): flag nonzero, system calls interrupted by signum fail
 * with EINTR (the default for handlers weft installs); 0, they restart
 * (SA_RESTART).  weft's own calls retry either way. */
WEFT_API weft_status weft_signal_siginterrupt(int signum, int flag);

/* The description of signum ("Interrupt") into (buf, cap, len).
 * -ENOENT if the system has none (real-time signals); -EINVAL for a bad
 * signal number. */
WEFT_API weft_status weft_signal_strsignal(int signum, char *buf,
                                           size_t cap, size_t *len);

/* *valid = 1 if signum is a signal this system has and a process may
 * handle (Python's valid_signals()), 0 otherwise; any int is accepted. */
WEFT_API weft_status weft_signal_valid(int signum, int *valid);

/* Send signum to the calling thread (raise(3)); its handler, if weft's,
 * is tripped before this returns.  -EINVAL for a bad signal number. */
WEFT_API weft_status weft_signal_raise(int signum);

/* Send signum to `thread` (pthread_kill), any alive thread handle.
 * signum 0 only checks that the thread is alive (-ESRCH if not). */
WEFT_API weft_status weft_signal_pthread_kill(weft_handle thread,
                                              int signum);

/* ======================================================================
 * ffi: types and struct layout (the ctypes engine's type system)
 *
 * A C type is a handle of kind WEFT_KIND_FFI_TYPE: a fundamental (int,
 * double, char *, ...), a pointer to a type, an array of a type, or a
 * struct or union built field by field.  Types are immutable once made
 * (a struct once finished), so every query is lock-free and a type may
 * be shared by any number of threads.  Layout follows the C compiler
 * exactly: gcc's System V rules by default, gcc's ms_struct rules
 * (-mms-bitfields, MSVC's) on request, each with #pragma pack and an
 * aligned attribute; see docs/ffi.md.  Each type also carries the libffi
 * description that calls will use.
 *
 * Ownership: every call that writes a type handle to *out makes a new
 * handle that the caller closes with weft_close.  The type behind it may
 * be shared: weft_ffi_type_named("int") twice gives two handles of the
 * same type, and closing one leaves the other (and the type) alone.  A
 * type that refers to others (a pointer's target, an array's element, a
 * struct's fields) keeps them alive itself, so closing the handle of a
 * field's type while a struct uses it is safe; memory goes when the last
 * handle and the last type using it are gone.  Builtin fundamentals are
 * never freed; closing their handles only retires the handles.
 *
 * Errors: a handle that is not an open type is WEFT_EBADHANDLE; a type
 * of the wrong sort for the call (the length of an int, adding a field to
 * a pointer) is WEFT_EVALUE; an unfinished struct where a finished one is
 * needed, or a change to a finished one, is WEFT_ESTATE.
 * ====================================================================== */

/* What a type is (weft_ffi_type_kind; also constants by name).  Integers
 * are SINT or UINT by their signedness: bool is UINT, char and wchar_t
 * follow the platform. */
#define WEFT_FFI_KIND_VOID    1 /* only as a return type or pointer target */
#define WEFT_FFI_KIND_SINT    2
#define WEFT_FFI_KIND_UINT    3
#define WEFT_FFI_KIND_FLOAT   4 /* float, double, long double             */
#define WEFT_FFI_KIND_POINTER 5 /* also char * (z), wchar_t * (Z), void * */
#define WEFT_FFI_KIND_ARRAY   6
#define WEFT_FFI_KIND_STRUCT  7
#define WEFT_FFI_KIND_UNION   8

/* Flags of weft_ffi_struct_new (also constants by name). */
#define WEFT_FFI_UNION         1 /* a union: every field at offset 0        */
#define WEFT_FFI_MS            2 /* MS rules (gcc's ms_struct), not gcc's   */
#define WEFT_FFI_BIG_ENDIAN    4 /* fields stored big-endian (ctypes' Big-  */
#define WEFT_FFI_LITTLE_ENDIAN 8 /* EndianStructure), or little-endian      */

/* The fundamental type called `name`, a ctypes code or a C or ctypes
 * name:
 *   ?  bool _Bool c_bool            c  char c_char
 *   u  wchar_t c_wchar              b  signed char c_byte
 *   B  unsigned char c_ubyte        h  short c_short
 *   H  unsigned short c_ushort      i  int c_int
 *   I  unsigned int unsigned c_uint l  long c_long
 *   L  unsigned long c_ulong        q  long long c_longlong
 *   Q  unsigned long long c_ulonglong
 *   f  float c_float   d  double c_double   g  long double c_longdouble
 *   z  char* c_char_p  Z  wchar_t* c_wchar_p  P  void* c_void_p
 *   void (as a return type or pointer target; code 0)
 * and the fixed-width names, each the same type as the fundamental of
 * its size that ctypes picks (on LP64 int64 is long, as c_int64 is
 * c_long): int8 uint8 int16 uint16 int32 uint32 int64 uint64, each also
 * with _t and as c_int8 ... c_uint64; size_t c_size_t ssize_t c_ssize_t
 * intptr_t uintptr_t ptrdiff_t.  Names are exact (no spaces other than
 * one between words, no "char *" spelling).  -ENOENT for any other name,
 * with the name in the message. */
WEFT_API weft_status weft_ffi_type_named(const char *name, weft_handle *out);

/* A pointer to `type` (any type, void included; an unfinished struct too,
 * for a struct that points to its own kind: see weft_ffi_struct_new). */
WEFT_API weft_status weft_ffi_pointer_new(weft_handle type,
                                          weft_handle *out);

/* An array of `length` elements of `type` (not void, not an unfinished
 * struct; length 0 gives a type of size 0).  WEFT_EVALUE if the size
 * would exceed 2^56 bytes. */
WEFT_API weft_status weft_ffi_array_new(weft_handle type, size_t length,
                                        weft_handle *out);

/* sizeof and _Alignof of the type (void: 0 and 1).  WEFT_ESTATE for an
 * unfinished struct. */
WEFT_API weft_status weft_ffi_type_size(weft_handle type, size_t *size);
WEFT_API weft_status weft_ffi_type_align(weft_handle type, size_t *align);

/* What the type is: WEFT_FFI_KIND_*. */
WEFT_API weft_status weft_ffi_type_kind(weft_handle type, int *kind);

/* The ctypes code of a fundamental ('i', 'z', ...), 0 for void and for
 * pointers, arrays, structs and unions made here. */
WEFT_API weft_status weft_ffi_type_code(weft_handle type, int *code);

/* A readable name: a fundamental's C name ("unsigned int", "char*"),
 * "T*" for a pointer, "T[N]" for an array, "struct" or "union" (string
 * rules at the top). */
WEFT_API weft_status weft_ffi_type_name(weft_handle type, char *buf,
                                        size_t cap, size_t *len);

/* A new handle of the type a pointer points to (void for void*, char for
 * char*, wchar_t for wchar_t*) or of an array's element.  WEFT_EVALUE for
 * other kinds. */
WEFT_API weft_status weft_ffi_type_element(weft_handle type,
                                           weft_handle *out);

/* The number of elements of an array type (WEFT_EVALUE for others). */
WEFT_API weft_status weft_ffi_type_length(weft_handle type, size_t *length);

/* ----------------------------------------------------------------------
 * Structs and unions
 *
 * Build: weft_ffi_struct_new, then weft_ffi_struct_add for each field in
 * declaration order, then weft_ffi_struct_finish, which computes the
 * layout.  After finish the struct is immutable (add and finish again are
 * WEFT_ESTATE); before it, the struct cannot be a field, an array element
 * or be queried for its size or fields (WEFT_ESTATE), but a pointer to it
 * may be made, so struct node { struct node *next; } is built as
 * new, pointer_new(node), add("next", pointer), finish.  (Such a cycle
 * through a pointer keeps its types alive until the process ends.)
 *
 * Layout (docs/ffi.md has the rules in full):
 *   - gcc (default): what gcc and clang do on Linux and every System V
 *     platform, __attribute__((ms_struct)) aside.  Bitfields are packed
 *     bit after bit; one that would cross a boundary of its type's
 *     alignment moves to the next one; a zero-width bitfield aligns the
 *     next field to its type; a named bitfield gives the struct its
 *     type's alignment, an unnamed one does not.
 *   - WEFT_FFI_MS: gcc's ms_struct / -mms-bitfields, which is MSVC's:
 *     adjacent bitfields share an allocation unit of their type only
 *     while their types have the same size and the bits fit; every
 *     bitfield, named or not, aligns the struct; a zero-width bitfield
 *     matters only after another bitfield.
 *   - pack (0: none; 1, 2, 4, 8 or 16, else WEFT_EVALUE, as gcc ignores
 *     other values of #pragma pack) caps every field's alignment, as
 *     #pragma pack(n) before the declaration does, under both rules.
 *     Under gcc rules packed bitfields no longer move to a boundary.
 *     Zero-width bitfields are not capped.
 *   - align (0: none; a power of two up to 2^28, else WEFT_EVALUE) is
 *     __attribute__((aligned(align))) on the struct: its alignment is at
 *     least align (never less), and its size a multiple of it.
 *   - WEFT_FFI_BIG_ENDIAN / WEFT_FFI_LITTLE_ENDIAN (at most one; neither:
 *     the platform's order) store the struct's scalar fields in that byte
 *     order, as gcc's scalar_storage_order attribute does; bitfields are
 *     then allocated from the most significant bit of their unit, as on a
 *     big-endian target.  Fields of struct or union type keep their own
 *     order.  Byte order changes no size or offset, only bit positions.
 * ---------------------------------------------------------------------- */

/* A new, empty, unfinished struct (or union with WEFT_FFI_UNION).  flags
 * are WEFT_FFI_UNION, WEFT_FFI_MS and one of the endian flags; unknown
 * bits, both endian flags, and bad pack or align values are WEFT_EVALUE. */
WEFT_API weft_status weft_ffi_struct_new(int flags, int pack, int align,
                                         weft_handle *out);

/* Add a field to an unfinished struct `st`: `name` (UTF-8, not NULL;
 * "" for an unnamed bitfield, or an anonymous struct or union member;
 * names are unique within the struct), its `type` (any finished type but
 * void), and `bits`: -1 for an ordinary field, or a bitfield's width.  A
 * bitfield's type is an integer (bool, char and wchar_t included) and
 * bits is at most its width in bits (1 for bool); bits 0 is a zero-width
 * bitfield, which must be unnamed.  The struct keeps `type` alive.
 * WEFT_EVALUE for a bad name, type or width (the message says which),
 * WEFT_ESTATE if st is finished or type is an unfinished struct. */
WEFT_API weft_status weft_ffi_struct_add(weft_handle st, const char *name,
                                         weft_handle type, int bits);

/* Compute the layout and make st immutable.  An empty struct has size 0
 * and alignment 1 (or align).  WEFT_ESTATE if it was finished already;
 * WEFT_EVALUE if the struct would exceed 2^56 bytes. */
WEFT_API weft_status weft_ffi_struct_finish(weft_handle st);

/* The flags st was made with, the byte order resolved: exactly one of
 * WEFT_FFI_BIG_ENDIAN and WEFT_FFI_LITTLE_ENDIAN is set.  Also pack and
 * align as given.  Works on unfinished structs. */
WEFT_API weft_status weft_ffi_struct_flags(weft_handle st, int *flags,
                                           int *pack, int *align);

/* The number of fields of a finished struct (unnamed ones included). */
WEFT_API weft_status weft_ffi_struct_field_count(weft_handle st,
                                                 size_t *count);

/* The index of the field called `name` (-ENOENT if none; "" finds
 * nothing). */
WEFT_API weft_status weft_ffi_struct_field_index(weft_handle st,
                                                 const char *name,
                                                 size_t *index);

/* The name of field `index` ("" if unnamed).  -ENOENT past the end. */
WEFT_API weft_status weft_ffi_struct_field_name(weft_handle st, size_t index,
                                                char *buf, size_t cap,
                                                size_t *len);

/* A new handle of field index's type.  -ENOENT past the end. */
WEFT_API weft_status weft_ffi_struct_field_type(weft_handle st, size_t index,
                                                weft_handle *out);

/* Where field `index` is.  *bits is the width given to add: -1 for an
 * ordinary field, 0 for a zero-width bitfield, else the bitfield's width.
 *
 * An ordinary field starts at byte *offset and is *unit bytes long (its
 * type's size); *bit_offset is 0.
 *
 * A bitfield is read as ctypes 3.14 reads it: take the *unit bytes at
 * *offset as an unsigned integer in the struct's byte order; the field is
 * its bits *bit_offset .. *bit_offset + *bits - 1, counted from the least
 * significant.  The unit is the field's type, aligned, where the field
 * fits in it and it lies inside the struct (always so without pack under
 * gcc rules, and always under MS rules); otherwise (a packed bitfield
 * that straddles its type's boundary) it is the fewest whole bytes that
 * hold the field, so it can be 1 to 9 bytes.  The unit never reaches
 * past the struct.  A zero-width bitfield has *unit 0 and *offset where
 * it aligned to.  -ENOENT past the end. */
WEFT_API weft_status weft_ffi_struct_field_layout(weft_handle st,
                                                  size_t index,
                                                  size_t *offset,
                                                  size_t *unit,
                                                  int *bit_offset, int *bits);

/* ======================================================================
 * ffi: libraries and memory
 *
 * A loaded library is a handle of kind WEFT_KIND_FFI_LIBRARY over a
 * dlopen handle.  weft_close closes it; the dlclose happens when the
 * last call using the handle is done.  An address obtained from it
 * (weft_ffi_library_symbol) is the caller's business: after the close it
 * may point into unmapped memory, as with ctypes.  The dynamic linker's
 * own reference counting applies: the same library opened twice is
 * mapped once and unloaded after both handles are closed.
 *
 * Addresses are void *: an integer (ctypes c_void_p, a Lua number, a
 * Ruby Integer) on the binding side.  The memory helpers check only for
 * NULL (WEFT_EVALUE); any other address is used as given, so a wrong
 * one crashes as it would in C (or in ctypes).
 * ====================================================================== */

/* Load a library by path or file name (dlopen).  flags: RTLD_* values
 * (constants by name: RTLD_NOW, RTLD_LAZY, RTLD_GLOBAL, RTLD_LOCAL,
 * RTLD_NODELETE, RTLD_NOLOAD); 0 means RTLD_NOW | RTLD_LOCAL, and flags
 * without RTLD_NOW or RTLD_LAZY get RTLD_NOW.  path NULL opens the
 * process's own namespace (the program and everything loaded
 * RTLD_GLOBAL, weft included).  A name without a slash is searched as
 * dlopen searches (LD_LIBRARY_PATH, the ld.so cache, the default
 * directories).  WEFT_EVALUE for unknown flag bits; WEFT_EFFI when
 * dlopen fails, with dlerror's text in weft_last_error_message (for
 * example "ffi_library_open: libnope.so: cannot open shared object
 * file: No such file or directory"). */
WEFT_API weft_status weft_ffi_library_open(const char *path, int flags,
                                           weft_handle *out);

/* The address of symbol `name` in the library (dlsym).  -ENOENT, with
 * dlerror's text in the last-error message, if it has none. */
WEFT_API weft_status weft_ffi_library_symbol(weft_handle lib,
                                             const char *name,
                                             void **address);

/* The file name of a library by short name, as ctypes.util.find_library
 * gives it on Linux: "c" gives "libc.so.6", "m" "libm.so.6".  It
 * searches /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib64,
 * /usr/lib64, /lib, /usr/lib and the directories of every object loaded
 * in the process (dl_iterate_phdr) for lib<name>.so.<version>, where the
 * version is numbers separated by dots, and returns the highest version
 * (compared number by number).  Failing that, it returns "lib<name>.so"
 * if such a file is there and dlopen loads it (a linker script does
 * not).  It neither reads ld.so.cache nor runs ldconfig, and does not
 * look in LD_LIBRARY_PATH.  The result is a file name for
 * weft_ffi_library_open, not a path.  String out (ABI.md 5);
 * WEFT_EVALUE for an empty name or one with a slash, -ENOENT if none is
 * found. */
WEFT_API weft_status weft_ffi_find_library(const char *name, char *buf,
                                           size_t cap, size_t *len);

/* size bytes of zeroed memory at *address, to be released with
 * weft_ffi_free.  size 0 gives a unique non-NULL address.  -ENOMEM. */
WEFT_API weft_status weft_ffi_alloc(size_t size, void **address);

/* Free memory from weft_ffi_alloc; NULL is ignored. */
WEFT_API void weft_ffi_free(void *address);

/* Read or write one scalar at address + offset, given by its ctypes code
 * (as an int: 'i' is 105).  Integers and pointers go through int64_t:
 * ? c u b B h H i I l L q Q and the pointers P z Z; a value read from an
 * unsigned 64-bit type (Q, L) is its bit pattern (cast to uint64_t), a
 * value written is converted to the type as C converts it (truncated).
 * Floating point goes through double: f d g (long double is rounded to
 * double when read).  The address need not be aligned.  WEFT_EVALUE for
 * a NULL address or a code of the other sort or unknown. */
WEFT_API weft_status weft_ffi_read_int(void *address, size_t offset,
                                       int code, int64_t *value);
WEFT_API weft_status weft_ffi_write_int(void *address, size_t offset,
                                        int code, int64_t value);
WEFT_API weft_status weft_ffi_read_double(void *address, size_t offset,
                                          int code, double *value);
WEFT_API weft_status weft_ffi_write_double(void *address, size_t offset,
                                           int code, double value);

/* Copy `length` bytes at address (ctypes string_at), or up to the first
 * NUL when length is -1, into buf.  Bytes out (ABI.md 5): *n receives
 * the length; WEFT_ERANGE if cap is smaller.  WEFT_EVALUE for a NULL
 * address or a length below -1. */
WEFT_API weft_status weft_ffi_string_at(void *address, int64_t length,
                                        void *buf, size_t cap, size_t *n);

/* memmove(dst, src, size) and memset(dst, byte, size); WEFT_EVALUE for
 * a NULL address (even with size 0). */
WEFT_API weft_status weft_ffi_memmove(void *dst, void *src, size_t size);
WEFT_API weft_status weft_ffi_memset(void *dst, int byte, size_t size);

/* Point at any memory a caller can pass as a buffer (a Lua string, a
 * Python bytes, a cffi buffer) and get its address back as an integer:
 * *address = buffer.  For FFIs that can pass a buffer but not take its
 * address.  The address is good only while the caller keeps the buffer
 * alive and unmoved.  WEFT_EVALUE for NULL. */
WEFT_API weft_status weft_ffi_address_of(const void *buffer, void **address);

/* ----------------------------------------------------------------------
 * Struct fields by index: read and write one scalar field of a finished
 * struct or union `st` in the memory at `address` (the start of the
 * struct), bitfields and byte order included, so a language can marshal
 * a struct without doing the bit arithmetic itself.
 *
 * A bitfield reads as its integer type would hold it (a signed one sign-
 * extends; a bool one is 0 or 1); a write keeps the value's low bits (a
 * bool field, bitfield or not, stores value != 0, as C's conversion to
 * _Bool does) and leaves every other bit of the struct alone.  Integer, pointer and bool
 * fields go through the _int calls (pointers and unsigned 64-bit fields
 * as their bit pattern), float fields (f d g) through the _double ones.
 * WEFT_EVALUE for a NULL address, a field of the other sort, or a field
 * that is not a scalar (an array, a struct: reach into those with their
 * own offset from weft_ffi_struct_field_layout); -ENOENT for an index
 * past the end; WEFT_ESTATE for an unfinished struct.
 * ---------------------------------------------------------------------- */
WEFT_API weft_status weft_ffi_struct_get_int(weft_handle st, size_t index,
                                             const void *address,
                                             int64_t *value);
WEFT_API weft_status weft_ffi_struct_set_int(weft_handle st, size_t index,
                                             void *address, int64_t value);
WEFT_API weft_status weft_ffi_struct_get_double(weft_handle st, size_t index,
                                                const void *address,
                                                double *value);
WEFT_API weft_status weft_ffi_struct_set_double(weft_handle st, size_t index,
                                                void *address, double value);

/* ======================================================================
 * ffi: functions (prepared calls)
 *
 * A function is a handle of kind WEFT_KIND_FFI_FUNCTION: an address plus
 * a signature (return type, argument types, calling convention, and for
 * a variadic function its number of fixed arguments), prepared once with
 * libffi and then called any number of times, from any thread at once.
 * It is immutable; it keeps its types alive (closing their handles is
 * safe), and closing it while another thread is inside a call through it
 * is safe (the call completes).
 *
 * The fast path: on x86-64 and AArch64, a signature of at most 6 (x86-64)
 * or 8 (AArch64) integer or pointer arguments and at most 8 float or
 * double arguments, in any order, returning void, an integer, a pointer,
 * float or double, with the default ABI, is called through a C function
 * pointer of a fixed register-only shape instead of ffi_call (variadic
 * call shapes too, through a variadic prototype of that shape):
 * arguments in integer registers are widened to 64 bits as the psABI
 * asks (sign- or zero-extended by their type), floats travel in the low
 * half of a vector register.  Every other signature (structs by value,
 * long double, stack arguments, another ABI) goes through ffi_call.  WEFT_FFI_CALL_LIBFFI forces ffi_call;
 * weft_ffi_function_flags tells which path a function takes
 * (WEFT_FFI_CALL_FAST).  Both paths give identical results.
 *
 * Arguments are passed as libffi passes them: `args` is an array of
 * nargs pointers, args[i] pointing to a value of argument i's type (a
 * struct's bytes for a struct by value; for a pointer argument, a
 * pointer to the pointer).  An array type as an argument is passed as a
 * pointer to its first element (C's decay): args[i] points to that
 * pointer.
 *
 * The result is written to `ret`: exactly the return type's size (an int
 * returns 4 bytes, a struct its bytes); NULL discards it.  libffi's
 * widening of small integer results to a register is undone here.
 *
 * errno: with WEFT_FFI_CALL_ERRNO, the call swaps errno with a per-thread
 * saved value just before the C function runs and again just after, as
 * ctypes' use_errno does: weft_ffi_errno_set before the call sets what
 * the function sees, weft_ffi_errno_get after it reads what the function
 * left.  The saved value is 0 in a new thread.
 *
 * weft does not check what the C function does with its arguments: a
 * wrong signature or a bad pointer crashes as it would in C.  It checks
 * what it can: the handle, NULL args or args[i], unusable types.
 * ====================================================================== */

/* Flags of weft_ffi_function_new and friends (also constants by name). */
#define WEFT_FFI_CALL_VARIADIC 1 /* variadic: nfixed fixed arguments      */
#define WEFT_FFI_CALL_ERRNO    2 /* swap errno around the call (use_errno) */
#define WEFT_FFI_CALL_LIBFFI   4 /* never the fast path                   */
#define WEFT_FFI_CALL_FAST     8 /* out only: the function takes it       */

/* Prepare a call to `address` (may be NULL: a signature only, for
 * weft_ffi_closure_new; calling it is WEFT_ESTATE).  restype: a type
 * handle, or 0 for void.  argtypes: nargs type handles (argtypes may be
 * NULL when nargs is 0); not void, no unfinished struct.  abi: 0 for the
 * platform's default, else a libffi ffi_abi value (constants by name:
 * FFI_DEFAULT_ABI, and FFI_UNIX64, FFI_WIN64, FFI_GNUW64 on x86-64,
 * FFI_SYSV on AArch64).  flags: WEFT_FFI_CALL_VARIADIC, _ERRNO, _LIBFFI.
 * With WEFT_FFI_CALL_VARIADIC, the first nfixed arguments are the fixed
 * ones (nfixed <= nargs) and the rest are the variadic ones of this call
 * shape: the types of C's default promotions only (no float, bool, char
 * or short among them: pass double and int), as C promotes them;
 * without it nfixed is ignored.  A variadic C function called with
 * several argument shapes needs one function per shape.
 * WEFT_EVALUE for a bad type, abi or flag (the message names the
 * argument); WEFT_EVALUE also for a packed struct whose fields libffi
 * cannot place (see docs/ffi.md) of at most 16 bytes by value;
 * WEFT_EFFI if libffi refuses the signature. */
WEFT_API weft_status weft_ffi_function_new(void *address, weft_handle restype,
                                           const weft_handle *argtypes,
                                           size_t nargs, size_t nfixed,
                                           int abi, int flags,
                                           weft_handle *out);

/* Prepare a call from a signature string (docs/ffi.md has the grammar):
 * a C declaration, "size_t strlen(const char *s)", "int printf(const
 * char *, ...)", "double (double)" (the name and parameter names are
 * optional), or a code string, "L(z)", "i(z...)", "v()", with the
 * ctypes codes of weft_ffi_type_named plus 'v' for void.  Types are the
 * fundamentals (C spellings with any of const, volatile, signed,
 * unsigned, short, long, int in C's orders, the fixed-width and ctypes
 * names) and pointers: T* is void* for every T except char (char*, code
 * z) and wchar_t (wchar_t*, Z); T[] and T[N] parameters are pointers.
 * Structs by value need weft_ffi_function_new.  "..." makes the function
 * variadic with the arguments before it fixed (a variadic signature has
 * no variadic argument types, so calls pass only the fixed ones: use
 * weft_ffi_function_new for a call shape with variadic arguments).
 * flags as for weft_ffi_function_new (_VARIADIC comes from "...").
 * WEFT_EVALUE for a malformed signature, with the 1-based column and the
 * reason in the last-error message ("ffi_function_parse: column 12:
 * expected ')' or ','") and the column as the detail code. */
WEFT_API weft_status weft_ffi_function_parse(void *address,
                                             const char *signature,
                                             int flags, weft_handle *out);

/* weft_ffi_function_parse for the function the signature names, looked
 * up in `lib` (0: the process's namespace): libc's strlen from
 * "size_t strlen(const char*)".  WEFT_EVALUE if the signature has no
 * name; -ENOENT if the library has no such symbol. */
WEFT_API weft_status weft_ffi_library_function(weft_handle lib,
                                               const char *signature,
                                               int flags, weft_handle *out);

/* Call fn (see above for args and ret).  Returns 0 once the C function
 * has returned (its own result is in ret), WEFT_EVALUE for NULL args or
 * args[i], WEFT_ESTATE for a function without an address.  The calling
 * thread is not detached from anything: a C function that blocks blocks
 * the caller (a binding releases its interpreter lock around this). */
WEFT_API weft_status weft_ffi_call(weft_handle fn, void *ret, void **args);

/* The function's address (NULL for a signature only). */
WEFT_API weft_status weft_ffi_function_address(weft_handle fn,
                                               void **address);

/* Its flags (with WEFT_FFI_CALL_FAST if it takes the fast path,
 * WEFT_FFI_CALL_VARIADIC if variadic) and its ABI as given (0: default). */
WEFT_API weft_status weft_ffi_function_flags(weft_handle fn, int *flags,
                                             int *abi);

/* The number of arguments, and of fixed ones (nargs unless variadic). */
WEFT_API weft_status weft_ffi_function_arg_count(weft_handle fn,
                                                 size_t *nargs,
                                                 size_t *nfixed);

/* New handles of the return type (void's for void) and of argument
 * `index`'s type (-ENOENT past the end). */
WEFT_API weft_status weft_ffi_function_restype(weft_handle fn,
                                               weft_handle *out);
WEFT_API weft_status weft_ffi_function_argtype(weft_handle fn, size_t index,
                                               weft_handle *out);

/* The name the signature string gave (weft_ffi_function_parse,
 * weft_ffi_library_function), "" if none.  String out (ABI.md 5). */
WEFT_API weft_status weft_ffi_function_name(weft_handle fn, char *buf,
                                            size_t cap, size_t *len);

/* The calling thread's saved errno for WEFT_FFI_CALL_ERRNO calls (ctypes
 * get_errno), and set it, receiving the old value (set_errno). */
WEFT_API weft_status weft_ffi_errno_get(int *value);
WEFT_API weft_status weft_ffi_errno_set(int value, int *old);

/* ======================================================================
 * ffi: closures (C function pointers that call back into a language)
 *
 * A closure is a handle of kind WEFT_KIND_FFI_CLOSURE: executable code
 * at an address that C can call as a function of a given signature;
 * each call runs handler(arg, ret, args) on the calling thread, whatever
 * thread that is (a binding whose runtime cannot be entered from any
 * thread queues the call to its dispatcher, ABI.md 6).  args[i] points
 * to argument i's value (as weft_ffi_call's args); ret points to a
 * zeroed buffer of the return type's size (at least 8 bytes) that the
 * handler fills (NULL for void); the handler must not keep either past
 * its return.
 *
 * Lifetime: weft_close releases the code once no call is running inside
 * the handler; C must not call the address after the close (as with
 * ctypes, keep the closure open while C may call it).  A call that
 * arrives after the close is detected in debug builds (configure
 * --enable-debug) or with WEFT_FFI_DEBUG=1 in the environment when the
 * closure was made: the code is then never reused, and a late call
 * prints "weft: ffi closure <handle> called after weft_close" to stderr
 * and aborts.  Otherwise a late call that finds the closure still mapped
 * returns zeros without calling the handler.
 *
 * Executable memory comes from libffi's ffi_closure_alloc, which copes
 * with W^X policies itself (static trampolines, or a second mapping of
 * the same pages, writable in one place and executable in another).  If
 * the system still refuses, weft_ffi_closure_new fails with WEFT_EFFI;
 * docs/ffi.md lists what to do.
 * ====================================================================== */

/* The handler of a closure: fill *ret (the return type's bytes) from
 * args (see above). */
typedef void (*weft_ffi_handler_fn)(void *arg, void *ret, void **args);

/* A closure with the signature of function `signature` (its address is
 * not used; one made with address NULL is a pure signature; not
 * variadic), calling handler(arg, ...).  The closure keeps what it needs
 * of the signature: `signature` may be closed afterwards.  WEFT_EVALUE
 * for a NULL handler or a variadic signature; WEFT_EFFI when no
 * executable memory can be had, with the reason. */
WEFT_API weft_status weft_ffi_closure_new(weft_handle signature,
                                          weft_ffi_handler_fn handler,
                                          void *arg, weft_handle *out);

/* The address C calls (a function pointer, as an address). */
WEFT_API weft_status weft_ffi_closure_address(weft_handle closure,
                                              void **address);

/* A function handle for calling the closure's signature at the
 * closure's address (so a language can call its own callback through
 * C).  A new handle that the caller closes. */
WEFT_API weft_status weft_ffi_closure_function(weft_handle closure,
                                               weft_handle *out);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_H */
