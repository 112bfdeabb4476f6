/* stress-signal.c - the storm: another process sends 100,000 SIGUSR1
 * while this one runs sendall of 64 MiB over a socket pair (a reader
 * thread checks every byte) and timed waits of each kind.  The data must
 * be intact, no wait may time out early or return -EINTR, nothing may
 * deadlock, and the handler must have run (on the main thread, inside
 * its waits). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "thread-util.h"

#define CHUNK 65536

static _Atomic long handled;
static _Atomic int64_t wrong_thread;
static int64_t main_tid;

static int on_usr1(void *arg, int signum) {
  (void)arg;
  (void)signum;
  atomic_fetch_add(&handled, 1);
  if ((int64_t)syscall(SYS_gettid) != main_tid)
    atomic_fetch_add(&wrong_thread, 1);
  return 0;
}

/* The byte at offset i of the stream. */
static unsigned char pattern(uint64_t i) {
  return (unsigned char)((i * 2654435761u) >> 13);
}

typedef struct reader {
  weft_handle sock;
  uint64_t want, got, bad;
  weft_status st;
} reader;

static int read_all(void *arg) {
  reader *r = arg;
  static unsigned char buf[CHUNK];
  while (r->got < r->want) {
    size_t n = 0;
    weft_status st = weft_socket_recv(r->sock, 0, buf, sizeof buf, &n);
    if (st != 0 || n == 0) {
      r->st = st != 0 ? st : -EPIPE;
      return 1;
    }
    for (size_t i = 0; i < n; i++)
      if (buf[i] != pattern(r->got + i))
        r->bad++;
    r->got += n;
  }
  return 0;
}

int main(void) {
  long signals = stress_n(100000);
  const char *san = getenv("SANITIZER");
  uint64_t total = (uint64_t)64 << 20;
  if (san != NULL && strcmp(san, "tsan") == 0)
    total = (uint64_t)16 << 20; /* TSan checks every byte's access */
  main_tid = (int64_t)syscall(SYS_gettid);
  if (weft_signal_set(SIGUSR1, WEFT_SIG_HANDLER, 0, on_usr1, NULL) != 0)
    BAIL("signal_set: %s", weft_last_error_message());

  int go[2];
  if (pipe(go) != 0)
    BAIL("pipe");
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) { /* the storm: no weft here */
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1)
      _exit(2);
    for (long i = 0; i < signals; i++)
      if (kill(parent, SIGUSR1) != 0)
        _exit(3);
    _exit(0);
  }
  close(go[0]);

  weft_handle a, b;
  weft_socket_pair_new(AF_UNIX, SOCK_STREAM, 0, &a, &b);
  weft_socket_set_timeout(a, 60);
  weft_socket_set_timeout(b, 60);
  weft_handle ev, lock, sem;
  weft_event_new(&ev);
  weft_lock_new(&lock);
  weft_semaphore_new(0, &sem);
  weft_lock_acquire(lock, -1); /* held: timed acquires time out */

  unsigned char *data = malloc(CHUNK);
  if (data == NULL)
    BAIL("malloc");
  long rounds = 0, early = 0, eintr = 0, other = 0;
  int storm_done = 0, status = -1;
  if (write(go[1], "g", 1) != 1)
    BAIL("write");
  while (!storm_done || rounds == 0) {
    reader r = {b, total, 0, 0, 0};
    weft_handle t;
    weft_thread_new(read_all, &r, "reader", &t);
    weft_thread_start(t);
    for (uint64_t off = 0; off < total; off += CHUNK) {
      for (size_t i = 0; i < CHUNK; i++)
        data[i] = pattern(off + i);
      size_t sent = 0;
      weft_status st = weft_socket_sendall(a, data, CHUNK, 0, &sent);
      if (st != 0 || sent != CHUNK) {
        diag("sendall: %d (%s), %zu sent", st, weft_last_error_message(), sent);
        other++;
        break;
      }
      /* Timed waits between the chunks, every 64th chunk. */
      if ((off / CHUNK) % 64 == 0) {
        weft_status ws[3];
        double t0 = weft_monotonic();
        ws[0] = weft_event_wait(ev, 0.002);
        double t1 = weft_monotonic();
        ws[1] = weft_lock_acquire(lock, 0.002);
        double t2 = weft_monotonic();
        ws[2] = weft_semaphore_acquire(sem, 0.002);
        double t3 = weft_monotonic();
        double took[3] = {t1 - t0, t2 - t1, t3 - t2};
        for (int k = 0; k < 3; k++) {
          if (ws[k] == -EINTR)
            eintr++;
          else if (ws[k] != -ETIMEDOUT)
            other++;
          else if (took[k] < 0.002 - 1e-4)
            early++;
        }
        if (weft_sleep(0.0005) != 0)
          eintr++;
      }
    }
    weft_status js = weft_thread_join(t, 120);
    if (js != 0 || r.st != 0 || r.got != total || r.bad != 0) {
      diag("round %ld: join %d, reader %d, %llu of %llu bytes, %llu bad",
           rounds, js, r.st, (unsigned long long)r.got,
           (unsigned long long)total, (unsigned long long)r.bad);
      other++;
    }
    weft_close(t);
    rounds++;
    if (!storm_done && waitpid(pid, &status, WNOHANG) == pid)
      storm_done = 1;
    if (other > 0)
      break;
  }
  if (!storm_done)
    waitpid(pid, &status, 0);
  /* Let the last signals be handled. */
  weft_event_wait(ev, 0.05);

  ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
     "the other process sent %ld SIGUSR1", signals);
  is(other, 0, "%ld rounds of sendall of %llu MiB, each received intact",
     rounds, (unsigned long long)(total >> 20));
  is(eintr, 0, "no wait returned -EINTR");
  is(early, 0, "no timed wait timed out early");
  ok(atomic_load(&handled) > 0 && atomic_load(&handled) <= signals,
     "the handler ran %ld times (standard signals merge)",
     (long)atomic_load(&handled));
  is((long)atomic_load(&wrong_thread), 0,
     "always on the main thread (the dispatching thread)");
  weft_lock_release(lock);
  weft_close(a);
  weft_close(b);
  weft_close(ev);
  weft_close(lock);
  weft_close(sem);
  free(data);
  weft_signal_set(SIGUSR1, WEFT_SIG_DFL, 0, NULL, NULL);
  return done_testing();
}
