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
 * name: weft's status codes and kinds now; AF_*, SIG*, ... as their modules
 * arrive.
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

/* Ask for signal `signum` (SIGINT by convention) to be raised in the main
 * thread.  Pending: delivery arrives with the signal module; until then
 * this validates signum and returns WEFT_ENOTSUP. */
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
 * barrier_wait and dispatcher_run; a call that can finish without
 * blocking does so and leaves the interrupt pending.  A call that returns
 * -EINTR has had no effect: nothing is acquired, condition_wait has
 * re-acquired the lock, barrier_wait has left its cycle without breaking
 * it.  The caller runs its own pending work and calls again with the time
 * that is left (PEP 475).  For a binding's unblocking function (Ruby's
 * Thread#kill and Ctrl-C).  `thread` is any thread handle: a started
 * thread, a running timer, a dummy or the main thread.  Interrupting a
 * thread that is not alive does nothing. */
WEFT_API weft_status weft_thread_interrupt(weft_handle thread);

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

#ifdef __cplusplus
}
#endif

#endif /* WEFT_H */
