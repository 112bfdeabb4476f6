/* demo.c - a short tour of what weft can do today (`make demo`).
 *
 * Threads with names running at once and joined with their results, a Lock
 * protecting a counter, an Event, a Timer that fires and one that is
 * cancelled, a TCP server and client talking through buffered streams
 * with select watching a socket and an Event, a signal handled inside
 * a wait that then keeps its deadline, libc called through the ctypes
 * engine (a signature string, a struct by value, a C callback into our
 * own code), and what an error looks like.  Every
 * call goes through the public ABI in abi/weft.h, exactly as a binding would
 * make it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "weft.h"

#define WORKERS 4
#define INCREMENTS 100000

/* Stop the demo on an unexpected failure, saying what failed and why. */
static void must(weft_status st, const char *what) {
  if (st == 0)
    return;
  printf("\n%s failed: %s (%s)\n  %s\n", what, weft_err_name(st),
         weft_strerror(st), weft_last_error_message());
  exit(1);
}

static void section(const char *title) { printf("\n== %s\n", title); }

/* ---- threads and a Lock ------------------------------------------------ */

static weft_handle counter_lock;
static long counter; /* guarded by counter_lock */

/* The calling thread's name, for messages. */
static const char *my_name(char *buf, size_t cap) {
  weft_handle self;
  size_t len;
  if (weft_thread_current(&self) != 0 ||
      weft_thread_get_name(self, buf, cap, &len) != 0)
    return "?";
  return buf;
}

/* Add 1 to the counter INCREMENTS times under the lock.  The result is how
 * often the lock was busy on the first try (a poll with timeout 0). */
static int worker(void *arg) {
  char name[64];
  int busy = 0;
  (void)arg;
  printf("  [%s] running on native thread %lld\n", my_name(name, sizeof name),
         (long long)weft_thread_current_native_id());
  for (int i = 0; i < INCREMENTS; i++) {
    weft_status st = weft_lock_acquire(counter_lock, 0);
    if (st == -ETIMEDOUT) {
      busy++;
      st = weft_lock_acquire(counter_lock, -1);
    }
    if (st != 0)
      return st;
    counter++;
    weft_lock_release(counter_lock);
  }
  return busy;
}

static void demo_threads(void) {
  weft_handle t[WORKERS];
  char name[32];
  section("Threads and a Lock");
  printf("%d named threads each add 1 to a shared counter %d times,\n"
         "holding one Lock for every increment.\n",
         WORKERS, INCREMENTS);
  must(weft_lock_new(&counter_lock), "lock_new");
  for (int i = 0; i < WORKERS; i++) {
    snprintf(name, sizeof name, "worker-%d", i + 1);
    must(weft_thread_new(worker, NULL, name, &t[i]), "thread_new");
  }
  for (int i = 0; i < WORKERS; i++)
    must(weft_thread_start(t[i]), "thread_start");
  size_t alive = 0;
  must(weft_thread_active_count(&alive), "thread_active_count");
  printf("  started them; threads alive now (main included): %zu\n", alive);
  for (int i = 0; i < WORKERS; i++) {
    int result;
    size_t len;
    must(weft_thread_join(t[i], 10), "thread_join");
    must(weft_thread_get_result(t[i], &result), "thread_get_result");
    must(weft_thread_get_name(t[i], name, sizeof name, &len),
         "thread_get_name");
    printf("  joined %s: result %d (times it found the lock busy)\n", name,
           result);
    must(weft_close(t[i]), "close");
  }
  printf("  counter = %ld (expected %ld)%s\n", counter,
         (long)WORKERS * INCREMENTS,
         counter == (long)WORKERS * INCREMENTS ? ": no increment was lost"
                                               : ": LOST UPDATES");
  must(weft_close(counter_lock), "close");
}

/* ---- Event ------------------------------------------------------------- */

static int waiter(void *arg) {
  weft_handle ready = *(weft_handle *)arg;
  double t0 = weft_monotonic();
  printf("  [waiter] waiting for the event (up to 5 s)\n");
  weft_status st = weft_event_wait(ready, 5);
  printf("  [waiter] event_wait returned %s after %.2f s\n", weft_err_name(st),
         weft_monotonic() - t0);
  return st;
}

static void demo_event(void) {
  weft_handle ready, t;
  section("Event");
  must(weft_event_new(&ready), "event_new");
  must(weft_thread_new(waiter, &ready, "waiter", &t), "thread_new");
  must(weft_thread_start(t), "thread_start");
  must(weft_sleep(0.2), "sleep");
  printf("  [main] setting the event\n");
  must(weft_event_set(ready), "event_set");
  must(weft_thread_join(t, 10), "thread_join");
  must(weft_close(t), "close");

  must(weft_event_clear(ready), "event_clear");
  weft_status st = weft_event_wait(ready, 0.05);
  printf("  a 0.05 s wait on a cleared event gives %s: %s\n", weft_err_name(st),
         weft_last_error_message());
  must(weft_close(ready), "close");
}

/* ---- Timer ------------------------------------------------------------- */

static double timers_t0;

static int ring(void *arg) {
  printf("  [%s] fired after %.2f s\n", (const char *)arg,
         weft_monotonic() - timers_t0);
  return 0;
}

static void demo_timers(void) {
  weft_handle fires, cancelled;
  int result;
  section("Timer");
  printf("Two timers: one fires after 0.1 s; one (0.3 s) is cancelled "
         "first.\n");
  must(weft_timer_new(0.1, ring, "timer-a", "timer-a", &fires), "timer_new");
  must(weft_timer_new(0.3, ring, "timer-b", "timer-b", &cancelled),
       "timer_new");
  timers_t0 = weft_monotonic();
  must(weft_thread_start(fires), "thread_start");
  must(weft_thread_start(cancelled), "thread_start");
  must(weft_timer_cancel(cancelled), "timer_cancel");
  printf("  [main] cancelled timer-b\n");
  must(weft_thread_join(fires, 10), "thread_join");
  must(weft_thread_join(cancelled, 10), "thread_join");
  must(weft_thread_get_result(cancelled, &result), "thread_get_result");
  printf("  timer-b never ran; its result is %s\n", weft_err_name(result));
  must(weft_close(fires), "close");
  must(weft_close(cancelled), "close");
}

/* ---- sockets, streams, select ------------------------------------------ */

/* The server: accept one client, read lines through a stream and answer
 * each in capitals, until the client ends the connection. */
static int echo_server(void *arg) {
  weft_handle listener = *(weft_handle *)arg, conn, in;
  unsigned char peer[WEFT_SOCKADDR_MAX];
  size_t peer_len, n, sent;
  char line[256];
  must(weft_socket_accept(listener, peer, sizeof peer, &peer_len, &conn),
       "socket_accept");
  must(weft_socket_makefile(conn, "r", -1, &in), "socket_makefile");
  while (weft_stream_readline(in, -1, line, sizeof line, &n) == 0 && n > 0) {
    for (size_t i = 0; i < n; i++)
      if (line[i] >= 'a' && line[i] <= 'z')
        line[i] = (char)(line[i] - 'a' + 'A');
    must(weft_socket_sendall(conn, line, n, 0, &sent), "socket_sendall");
  }
  must(weft_close(in), "close");
  must(weft_close(conn), "close");
  return 0;
}

static void demo_sockets(void) {
  weft_handle listener, server, client, replies, quit;
  unsigned char addr[WEFT_SOCKADDR_MAX];
  size_t addr_len, n, written;
  char host[64], port[16], line[256];
  int family, portnum;
  uint32_t flowinfo, scope_id;
  section("Sockets, streams and select");
  must(weft_socket_new(AF_INET, SOCK_STREAM, 0, &listener), "socket_new");
  must(weft_sockaddr_make(AF_INET, "127.0.0.1", 9, 0, 0, 0, addr, sizeof addr,
                          &addr_len),
       "sockaddr_make");
  must(weft_socket_bind(listener, addr, addr_len), "socket_bind");
  must(weft_socket_listen(listener, 4), "socket_listen");
  must(weft_socket_getsockname(listener, addr, sizeof addr, &addr_len),
       "socket_getsockname");
  must(weft_sockaddr_parse(addr, addr_len, &family, host, sizeof host, &n,
                           &portnum, &flowinfo, &scope_id),
       "sockaddr_parse");
  printf("  a server listens on %s:%d, on a thread of its own\n", host,
         portnum);
  must(weft_thread_new(echo_server, &listener, "server", &server),
       "thread_new");
  must(weft_thread_start(server), "thread_start");

  snprintf(port, sizeof port, "%d", portnum);
  must(weft_socket_create_connection("localhost", port, 5, NULL, NULL, &client),
       "socket_create_connection");
  must(weft_socket_makefile(client, "rw", -1, &replies), "socket_makefile");
  must(weft_event_new(&quit), "event_new");
  const char *lines[] = {"hello, weft\n", "one ABI, every language\n"};
  for (int i = 0; i < 2; i++) {
    must(weft_stream_write(replies, lines[i], strlen(lines[i]), &written),
         "stream_write");
    must(weft_stream_flush(replies), "stream_flush");
    /* Wait for the reply or for the Event, whichever comes first. */
    weft_handle ready[2] = {client, quit};
    size_t rn, wn, xn;
    must(weft_select_wait(ready, 2, NULL, 0, NULL, 0, 5, &rn, &wn, &xn),
         "select_wait");
    must(weft_stream_readline(replies, -1, line, sizeof line, &n),
         "stream_readline");
    printf("  sent %.*s, select found the %s ready, read back %.*s\n",
           (int)strlen(lines[i]) - 1, lines[i],
           ready[0] == client ? "socket" : "event", (int)n - 1, line);
  }
  must(weft_socket_shutdown(client, SHUT_WR), "socket_shutdown");
  must(weft_thread_join(server, 10), "thread_join");
  must(weft_close(replies), "close");
  must(weft_close(client), "close");
  must(weft_close(quit), "close");
  must(weft_close(server), "close");

  /* Nobody listens on the port once the listener is closed. */
  must(weft_close(listener), "close");
  weft_status st =
      weft_socket_create_connection("127.0.0.1", port, 5, NULL, NULL, &client);
  printf("  connecting once the server is gone: %s\n    \"%s\"\n",
         weft_err_name(st), weft_last_error_message());
}

/* ---- errors ------------------------------------------------------------ */

/* ---- signals ----------------------------------------------------------- */

static double signals_t0;

static int on_alarm(void *arg, int signum) {
  printf("  [handler] signal %d (SIGALRM) after %.2f s, on the waiting "
         "thread, outside the C handler\n",
         signum, weft_monotonic() - signals_t0);
  return *(int *)arg; /* nonzero: the handler fails */
}

static void demo_signals(void) {
  weft_handle ev;
  double old_s, old_i;
  int fail = 0;
  section("Signals");
  printf("SIGALRM comes 0.1 s into a 0.4 s wait: the handler runs inside "
         "the wait,\nwhich then goes on with the time that is left "
         "(PEP 475).\n");
  must(weft_signal_set(SIGALRM, WEFT_SIG_HANDLER, 0, on_alarm, &fail),
       "signal_set");
  must(weft_event_new(&ev), "event_new");
  signals_t0 = weft_monotonic();
  must(weft_signal_setitimer(ITIMER_REAL, 0.1, 0, &old_s, &old_i),
       "signal_setitimer");
  weft_status st = weft_event_wait(ev, 0.4);
  printf("  event_wait returned %s after %.2f s\n", weft_err_name(st),
         weft_monotonic() - signals_t0);
  fail = 1;
  signals_t0 = weft_monotonic();
  must(weft_signal_setitimer(ITIMER_REAL, 0.1, 0, &old_s, &old_i),
       "signal_setitimer");
  st = weft_event_wait(ev, 5);
  printf("  with a failing handler, a 5 s wait returns %s after %.2f s\n",
         weft_err_name(st), weft_monotonic() - signals_t0);
  must(weft_signal_set(SIGALRM, WEFT_SIG_DFL, 0, NULL, NULL), "signal_set");
  must(weft_close(ev), "close");
}

/* ---- the ctypes engine ------------------------------------------------ */

/* qsort's comparator, as a closure: args[i] points to a const void *. */
static void compare_ints(void *arg, void *ret, void **args) {
  int a = **(const int **)args[0], b = **(const int **)args[1];
  (*(int *)arg)++;
  *(int *)ret = (a > b) - (a < b);
}

static void demo_ffi(void) {
  weft_handle libc, strlen_fn, div_fn, qsort_fn, cmp_sig, cmp, i, div_t_type;
  char name[64];
  size_t len;
  section("Calling C (the ctypes engine)");
  must(weft_ffi_find_library("c", name, sizeof name, &len), "find_library");
  must(weft_ffi_library_open(name, 0, &libc), "library_open");
  printf("  find_library(\"c\") = %s\n", name);

  must(weft_ffi_library_function(libc, "size_t strlen(const char *s)", 0,
                                 &strlen_fn),
       "library_function");
  const char *text = "threads and communication";
  void *sargs[] = {&text};
  size_t n = 0;
  int flags, abi;
  must(weft_ffi_call(strlen_fn, &n, sargs), "ffi_call");
  must(weft_ffi_function_flags(strlen_fn, &flags, &abi), "function_flags");
  printf("  strlen(\"%s\") = %zu (%s)\n", text, n,
         flags & WEFT_FFI_CALL_FAST ? "the register fast path"
                                    : "through libffi");

  /* div_t div(int, int): a struct returned by value, laid out as gcc
   * lays it out. */
  must(weft_ffi_type_named("int", &i), "type_named");
  must(weft_ffi_struct_new(0, 0, 0, &div_t_type), "struct_new");
  must(weft_ffi_struct_add(div_t_type, "quot", i, -1), "struct_add");
  must(weft_ffi_struct_add(div_t_type, "rem", i, -1), "struct_add");
  must(weft_ffi_struct_finish(div_t_type), "struct_finish");
  void *div_addr;
  must(weft_ffi_library_symbol(libc, "div", &div_addr), "library_symbol");
  weft_handle two_ints[] = {i, i};
  must(weft_ffi_function_new(div_addr, div_t_type, two_ints, 2, 0, 0, 0,
                             &div_fn),
       "function_new");
  int num = 47, den = 5;
  void *dargs[] = {&num, &den};
  unsigned char result[16];
  int64_t quot, rem;
  must(weft_ffi_call(div_fn, result, dargs), "ffi_call");
  must(weft_ffi_struct_get_int(div_t_type, 0, result, &quot), "get_int");
  must(weft_ffi_struct_get_int(div_t_type, 1, result, &rem), "get_int");
  printf("  div(%d, %d) = {quot = %lld, rem = %lld} (a struct by value)\n", num,
         den, (long long)quot, (long long)rem);

  /* qsort with a closure: C calls back into compare_ints. */
  int calls = 0, v[] = {42, 7, 19, 3, 88, 21};
  void *code;
  must(weft_ffi_function_parse(NULL, "int (const void *, const void *)", 0,
                               &cmp_sig),
       "function_parse");
  must(weft_ffi_closure_new(cmp_sig, compare_ints, &calls, &cmp),
       "closure_new");
  must(weft_ffi_closure_address(cmp, &code), "closure_address");
  must(weft_ffi_library_function(
           libc, "void qsort(void *, size_t, size_t, void *compar)", 0,
           &qsort_fn),
       "library_function");
  void *base = v;
  size_t count = sizeof v / sizeof v[0], size = sizeof v[0];
  void *qargs[] = {&base, &count, &size, &code};
  must(weft_ffi_call(qsort_fn, NULL, qargs), "ffi_call");
  printf("  qsort with a closure as comparator: %d %d %d %d %d %d "
         "(%d callbacks)\n",
         v[0], v[1], v[2], v[3], v[4], v[5], calls);

  weft_handle all[] = {strlen_fn, div_fn,     qsort_fn, cmp,
                       cmp_sig,   div_t_type, i,        libc};
  for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
    must(weft_close(all[k]), "close");
}

static void demo_errors(void) {
  weft_handle lock;
  weft_status st;
  section("Errors");
  printf("Every call returns a status; the thread's last error says more.\n");
  must(weft_lock_new(&lock), "lock_new");
  st = weft_lock_release(lock);
  printf("  releasing an unlocked lock: %d = %s (%s)\n    \"%s\"\n", st,
         weft_err_name(st), weft_strerror(st), weft_last_error_message());
  must(weft_close(lock), "close");
  st = weft_lock_acquire(lock, 0);
  printf("  using it after close:       %d = %s (%s)\n    \"%s\"\n", st,
         weft_err_name(st), weft_strerror(st), weft_last_error_message());
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("weft %s: Python's threads-and-communication toolkit, one C ABI.\n",
         weft_version());
  demo_threads();
  demo_event();
  demo_timers();
  demo_sockets();
  demo_signals();
  demo_ffi();
  demo_errors();
  must(weft_thread_shutdown(10), "thread_shutdown");
  printf("\nDone.  The reference manual is abi/weft.h.\n");
  return 0;
}
