/* test-stream.c - buffered streams over pipes, socket pairs and files:
 * reads, lines, writes, buffering modes, the three timeout modes,
 * interrupts, close, and argument checks. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "stream-util.h"

static weft_status rdline(weft_handle s, int64_t limit, char *buf, size_t cap,
                          size_t *n) {
  *n = 12345;
  return weft_stream_readline(s, limit, buf, cap, n);
}

/* A temporary file holding `text`, opened for reading; *path receives
 * its name (the caller unlinks it). */
static int temp_file(const char *text, char *path, size_t cap) {
  snprintf(path, cap, "/tmp/weft-stream-XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0)
    BAIL("mkstemp: %s", strerror(errno));
  put(fd, text);
  close(fd);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    BAIL("open %s: %s", path, strerror(errno));
  return fd;
}

static void append_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    BAIL("open %s: %s", path, strerror(errno));
  put(fd, text);
  close(fd);
}

/* ---- creation and attributes ---- */

static void test_new(void) {
  int p[2];
  mkpipe(p);
  static const char *good[] = {"r", "w", "rw", "wr", "rb", "br", "wb",
                               "rwb", "bwr"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    weft_handle h = 0;
    is(weft_stream_new(p[0], good[i], -1, &h), 0, "mode \"%s\" is accepted",
       good[i]);
    weft_close(h);
  }
  static const char *bad[] = {"", "b", "x", "rr", "ww", "rbb", "r+", "ra",
                              "R", "rwx", "a"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    weft_handle h = 0;
    is(weft_stream_new(p[0], bad[i], -1, &h), WEFT_EVALUE,
       "mode \"%s\" is WEFT_EVALUE", bad[i]);
  }
  ok(strncmp(weft_last_error_message(), "stream_new:", 11) == 0,
     "the message names stream_new (%s)", weft_last_error_message());
  weft_handle h = 0;
  is(weft_stream_new(p[0], NULL, -1, &h), WEFT_EVALUE, "a NULL mode");
  is(weft_stream_new(p[0], "r", -1, NULL), WEFT_EVALUE, "a NULL out");
  is(weft_stream_new(p[0], "r", -2, &h), WEFT_EVALUE, "buffering -2");
  is(weft_stream_new(p[0], "r", INT64_MIN, &h), WEFT_EVALUE,
     "buffering INT64_MIN");
  static const int64_t sizes[] = {-1, 0, 1, 2, 4096, 100000};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    is(weft_stream_new(p[0], "r", sizes[i], &h), 0,
       "buffering %lld is accepted", (long long)sizes[i]);
    weft_close(h);
  }
  is(weft_stream_new(-1, "r", -1, &h), -EBADF, "fd -1 is -EBADF");
  int spare = dup(p[0]);
  close(spare);
  is(weft_stream_new(spare, "r", -1, &h), -EBADF, "a closed fd is -EBADF");

  h = mkstream(p[0], "r", -1);
  int kind = 0;
  weft_handle_kind(h, &kind);
  is(kind, WEFT_KIND_STREAM, "its kind is WEFT_KIND_STREAM");
  int fd = -1;
  is(weft_stream_fileno(h, &fd), 0, "fileno");
  ok(fd >= 0 && fd != p[0], "fileno is the stream's own duplicate (%d)", fd);
  ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "the duplicate is close-on-exec");
  ok(fcntl(fd, F_GETFL) & O_NONBLOCK, "the duplicate is O_NONBLOCK");
  int r = -1, w = -1;
  weft_stream_readable(h, &r);
  weft_stream_writable(h, &w);
  ok(r == 1 && w == 0, "mode r: readable, not writable");
  weft_close(h);
  h = mkstream(p[1], "wb", 0);
  weft_stream_readable(h, &r);
  weft_stream_writable(h, &w);
  ok(r == 0 && w == 1, "mode wb: writable, not readable");
  weft_close(h);
  h = mkstream(p[1], "rw", 0);
  weft_stream_readable(h, &r);
  weft_stream_writable(h, &w);
  ok(r == 1 && w == 1, "mode rw: both");

  double t = 0;
  is(weft_stream_get_timeout(h, &t), 0, "get_timeout");
  ok(t == -1.0, "a new stream is blocking (timeout %g)", t);
  weft_stream_set_timeout(h, 2.5);
  weft_stream_get_timeout(h, &t);
  ok(t == 2.5, "set_timeout(2.5) sticks");
  weft_stream_set_timeout(h, -7);
  weft_stream_get_timeout(h, &t);
  ok(t == -1.0, "a negative timeout reads back as -1");
  weft_stream_set_timeout(h, 0);
  weft_stream_get_timeout(h, &t);
  ok(t == 0, "timeout 0");
  is(weft_stream_set_timeout(h, NAN), WEFT_EVALUE, "a NaN timeout");
  weft_close(h);
  close(p[0]);
  close(p[1]);
}

/* ---- reads ---- */

typedef struct feeder {
  int fd;
  const char *const *pieces;
  _Atomic int *reader_tid;
  int close_at_end; /* then close fd: the reader sees the end */
} feeder;

/* Writes each piece once the reader sleeps in ppoll, so that every piece
 * is a read(2) of its own. */
static void *feed(void *p) {
  feeder *f = p;
  for (int i = 0; f->pieces[i] != NULL; i++) {
    if (i > 0)
      wait_in_poll(atomic_load(f->reader_tid));
    put(f->fd, f->pieces[i]);
  }
  if (f->close_at_end) {
    wait_in_poll(atomic_load(f->reader_tid));
    close(f->fd);
  }
  return NULL;
}

static void test_read_across_writes(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", -1);
  static const char *const pieces[] = {"hel", "lo w", "orld", NULL};
  _Atomic int tid = self_tid();
  feeder f = {p[1], pieces, &tid, 0};
  pthread_t t = spawn(feed, &f);
  char buf[32];
  size_t n = 0;
  is(weft_stream_read(s, buf, 11, &n), 0, "read(11) across three writes");
  is_bytes(buf, n, "hello world", "it returns all 11 bytes, in order");
  pthread_join(t, NULL);

  put(p[1], "abc");
  close(p[1]);
  is(weft_stream_read(s, buf, 10, &n), 0, "read(10) with 3 bytes then EOF");
  is_bytes(buf, n, "abc", "a short read happens only at the end");
  is(weft_stream_read(s, buf, 10, &n), 0, "read at the end");
  is(n, 0, "gives 0 bytes");
  is(weft_stream_read(s, buf, 0, &n), 0, "read(0)");
  is(n, 0, "gives 0 bytes");
  weft_close(s);
  close(p[0]);
}

static void test_eof_not_sticky(void) {
  char path[64];
  int fd = temp_file("abc", path, sizeof path);
  weft_handle s = mkstream(fd, "r", -1);
  char buf[32];
  size_t n = 0;
  weft_stream_read(s, buf, sizeof buf, &n);
  is_bytes(buf, n, "abc", "a file's data");
  is(weft_stream_read(s, buf, sizeof buf, &n), 0, "then the end");
  is(n, 0, "0 bytes");
  append_file(path, "def");
  is(weft_stream_read(s, buf, sizeof buf, &n), 0, "read after the end");
  is_bytes(buf, n, "def", "the end is not sticky: new data is read");
  weft_close(s);
  close(fd);
  unlink(path);
}

static void test_read1(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", -1);
  char buf[64];
  size_t n = 0;
  put(p[1], "abcdef");
  is(weft_stream_read1(s, buf, sizeof buf, &n), 0, "read1");
  is_bytes(buf, n, "abcdef", "read1 returns what one read(2) gave");
  put(p[1], "one\ntwo");
  rdline(s, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "one\n", "readline takes one line");
  put(p[1], "three");
  is(weft_stream_read1(s, buf, sizeof buf, &n), 0, "read1 with data buffered");
  is_bytes(buf, n, "two", "returns the buffered data without reading");
  is(weft_stream_read1(s, buf, 2, &n), 0, "read1(2)");
  is_bytes(buf, n, "th", "reads once and returns 2 bytes");
  is(weft_stream_read1(s, buf, sizeof buf, &n), 0, "read1 again");
  is_bytes(buf, n, "ree", "returns the rest of that read");
  close(p[1]);
  is(weft_stream_read1(s, buf, sizeof buf, &n), 0, "read1 at the end");
  is(n, 0, "gives 0 bytes");
  weft_close(s);
  close(p[0]);
}

static void test_readall(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", 16);
  static const char *const pieces[] = {"first ", "second ", "third", NULL};
  _Atomic int tid = self_tid();
  feeder f = {p[1], pieces, &tid, 1};
  pthread_t t = spawn(feed, &f);
  char buf[64];
  size_t n = 0;
  is(weft_stream_readall(s, buf, sizeof buf, &n), 0,
     "readall across three writes");
  is_bytes(buf, n, "first second third", "reads to the end");
  pthread_join(t, NULL);
  is(weft_stream_readall(s, buf, sizeof buf, &n), 0, "readall at the end");
  is(n, 0, "gives 0 bytes");
  weft_close(s);
  close(p[0]);

  mkpipe(p);
  s = mkstream(p[0], "r", 16);
  char big[100];
  for (int i = 0; i < 100; i++)
    big[i] = (char)('a' + i % 26);
  put_bytes(p[1], big, sizeof big);
  close(p[1]);
  is(weft_stream_readall(s, buf, 10, &n), WEFT_ERANGE,
     "readall into 10 bytes of 100 is WEFT_ERANGE");
  is(n, 100, "*n is the size needed");
  is(weft_stream_readall(s, NULL, 0, &n), WEFT_ERANGE,
     "readall(NULL, 0) asks the size");
  is(n, 100, "still 100");
  char all[100];
  is(weft_stream_readall(s, all, sizeof all, &n), 0, "the retry with room");
  ok(n == 100 && memcmp(all, big, 100) == 0, "gets all 100 bytes");
  weft_close(s);
  close(p[0]);

  /* A file can grow after its end was read: the retry must not read. */
  char path[64];
  int fd = temp_file("0123456789", path, sizeof path);
  s = mkstream(fd, "r", -1);
  is(weft_stream_readall(s, buf, 4, &n), WEFT_ERANGE, "readall of a file, "
                                                      "small buffer");
  is(n, 10, "needs 10");
  append_file(path, "more");
  is(weft_stream_readall(s, buf, sizeof buf, &n), 0, "the retry");
  is_bytes(buf, n, "0123456789", "gets exactly what was measured");
  is(weft_stream_readall(s, buf, sizeof buf, &n), 0, "the next readall");
  is_bytes(buf, n, "more", "reads what came after");
  weft_close(s);
  close(fd);
  unlink(path);
}

static void test_readline(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", -1);
  char buf[64];
  size_t n = 0;
  put(p[1], "one\ntwo\nabcdefgh\nxyz\n");
  is(rdline(s, -1, buf, sizeof buf, &n), 0, "readline");
  is_bytes(buf, n, "one\n", "the first line, with its newline");
  rdline(s, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "two\n", "the second");
  is(rdline(s, 3, buf, sizeof buf, &n), 0, "readline(limit 3)");
  is_bytes(buf, n, "abc", "stops at the limit");
  rdline(s, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "defgh\n", "the rest of the line comes next");
  is(rdline(s, 0, buf, sizeof buf, &n), 0, "readline(limit 0)");
  is(n, 0, "gives 0 bytes");
  rdline(s, 4, buf, sizeof buf, &n);
  is_bytes(buf, n, "xyz\n", "a limit past the newline stops at it");
  put(p[1], "tail");
  close(p[1]);
  rdline(s, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "tail", "the last line without a newline, at the end");
  is(rdline(s, -1, buf, sizeof buf, &n), 0, "readline at the end");
  is(n, 0, "gives 0 bytes");
  weft_close(s);
  close(p[0]);
}

static void test_long_line(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", 16);
  static char line[3001], buf[4000];
  memset(line, 'x', 3000);
  line[2999] = '\n';
  line[3000] = '\0';
  put(p[1], line);
  put(p[1], "short\n");
  size_t n = 0;
  is(rdline(s, -1, buf, sizeof buf, &n), 0,
     "readline of a 3000-byte line, buffer 16");
  is_bytes(buf, n, line, "the whole line");
  rdline(s, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "short\n", "then the next");
  weft_close(s);
  close(p[0]);
  close(p[1]);
}

static void test_readline_erange(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", -1);
  char buf[64];
  size_t n = 0;
  put(p[1], "hello world\nnext\n");
  is(rdline(s, -1, buf, 5, &n), WEFT_ERANGE,
     "readline into 5 bytes of a 12-byte line");
  is(n, 12, "*n is the line's size");
  is(rdline(s, -1, buf, 12, &n), 0, "the retry with 12 bytes");
  is_bytes(buf, n, "hello world\n", "gets the line");
  rdline(s, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "next\n", "and the next one after it");
  weft_close(s);
  close(p[0]);
  close(p[1]);

  /* A last line without a newline: the retry must not read more. */
  char path[64];
  int fd = temp_file("tail", path, sizeof path);
  s = mkstream(fd, "r", -1);
  is(rdline(s, -1, buf, 2, &n), WEFT_ERANGE, "a last line too big");
  is(n, 4, "needs 4");
  append_file(path, "more\n");
  is(rdline(s, -1, buf, sizeof buf, &n), 0, "the retry");
  is_bytes(buf, n, "tail", "gets what was measured, ended by the end");
  rdline(s, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "more\n", "the next line is what came later");
  weft_close(s);
  close(fd);
  unlink(path);
}

static void test_readinto(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", -1);
  char buf[16];
  memset(buf, '#', sizeof buf);
  put(p[1], "0123456789");
  size_t n = 0;
  is(weft_stream_read(s, buf + 4, 5, &n), 0, "read into the middle of a "
                                             "buffer");
  is_bytes(buf + 4, n, "01234", "fills the 5 bytes asked for");
  ok(memcmp(buf, "####", 4) == 0 && memcmp(buf + 9, "#######", 7) == 0,
     "and nothing around them");
  is(weft_stream_read1(s, buf, 3, &n), 0, "read1 into 3 bytes");
  is_bytes(buf, n, "567", "fills them");
  ok(buf[3] == '#', "and not the next");
  weft_close(s);
  close(p[0]);
  close(p[1]);
}

/* ---- writes ---- */

static void test_write_flush(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[1], "w", -1);
  char buf[256];
  size_t n = 0;
  is(weft_stream_write(s, "hello", 5, &n), 0, "write");
  is(n, 5, "takes all 5 bytes");
  ok(!readable_now(p[0]), "a buffered write is not visible before flush");
  is(weft_stream_flush(s), 0, "flush");
  n = grab(p[0], buf, sizeof buf);
  is_bytes(buf, n, "hello", "after flush the bytes are there");
  is(weft_stream_write(s, NULL, 0, &n), 0, "write of 0 bytes (NULL buf)");
  is(n, 0, "takes 0");
  weft_close(s);

  s = mkstream(p[1], "w", 16);
  static const char text[] = "0123456789abcdefghijklmnopqrstuvwxyz0123456789";
  is(weft_stream_write(s, "ab", 2, &n), 0, "a small write");
  is(weft_stream_write(s, text, strlen(text), &n), 0,
     "a write larger than the buffer");
  is(n, strlen(text), "takes all of it");
  weft_stream_flush(s);
  n = grab(p[0], buf, sizeof buf);
  char want[128];
  snprintf(want, sizeof want, "ab%s", text);
  is_bytes(buf, n, want, "everything arrives in order");
  weft_close(s);
  close(p[0]);
  close(p[1]);
}

static void test_line_buffered(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[1], "w", 1);
  char buf[64];
  size_t n = 0;
  weft_stream_write(s, "abc", 3, &n);
  ok(!readable_now(p[0]), "line-buffered: a write without '\\n' waits");
  is(weft_stream_write(s, "def\nghi", 7, &n), 0, "a write holding '\\n'");
  is(n, 7, "takes all of it");
  n = grab(p[0], buf, sizeof buf);
  is_bytes(buf, n, "abcdef\nghi", "flushes everything buffered");
  weft_close(s);
  close(p[0]);
  close(p[1]);
}

static void test_unbuffered(void) {
  int p[2];
  mkpipe(p);
  weft_handle w = mkstream(p[1], "w", 0);
  char buf[64];
  size_t n = 0;
  is(weft_stream_write(w, "x", 1, &n), 0, "unbuffered write");
  ok(readable_now(p[0]), "is visible at once");
  grab(p[0], buf, sizeof buf);
  weft_close(w);

  weft_handle r = mkstream(p[0], "r", 0);
  put(p[1], "abc\ndef\n");
  is(rdline(r, -1, buf, sizeof buf, &n), 0, "unbuffered readline");
  is_bytes(buf, n, "abc\n", "gets the first line");
  n = grab(p[0], buf, sizeof buf);
  is_bytes(buf, n, "def\n",
           "a second reader of the descriptor sees the next line: no "
           "over-read");
  put(p[1], "12345");
  is(rdline(r, 2, buf, sizeof buf, &n), 0, "unbuffered readline(limit 2)");
  is_bytes(buf, n, "12", "reads 2 bytes");
  n = grab(p[0], buf, sizeof buf);
  is_bytes(buf, n, "345", "and no more");
  put(p[1], "ab");
  is(weft_stream_read(r, buf, 10, &n), 0, "unbuffered read(10) of 2 bytes");
  is_bytes(buf, n, "ab", "is one read(2): returns what was there");
  weft_close(r);
  close(p[0]);
  close(p[1]);
}

/* ---- lifetimes and close ---- */

static void test_independent(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", -1);
  close(p[0]);
  put(p[1], "still here\n");
  char buf[64];
  size_t n = 0;
  is(rdline(s, -1, buf, sizeof buf, &n), 0,
     "the stream reads after its original fd was closed");
  is_bytes(buf, n, "still here\n", "the data");
  weft_close(s);

  mkpipe(p);
  s = mkstream(p[1], "w", -1);
  weft_close(s);
  ok(fcntl(p[1], F_GETFD) >= 0, "closing the stream leaves the fd open");
  put(p[1], "ok");
  n = grab(p[0], buf, sizeof buf);
  is_bytes(buf, n, "ok", "and usable");
  close(p[0]);
  close(p[1]);
}

static void test_close_flushes(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[1], "w", -1);
  size_t n = 0;
  weft_stream_write(s, "bye", 3, &n);
  ok(!readable_now(p[0]), "buffered before close");
  is(weft_close(s), 0, "weft_close");
  char buf[16];
  n = grab(p[0], buf, sizeof buf);
  is_bytes(buf, n, "bye", "weft_close flushed");
  int kind;
  is(weft_handle_kind(s, &kind), WEFT_EBADHANDLE, "the handle is closed");
  close(p[0]);
  close(p[1]);
}

static void test_close_flush_error(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[1], "w", -1);
  size_t n = 0;
  weft_stream_write(s, "lost", 4, &n);
  close(p[0]);
  close(p[1]);
  is(weft_close(s), -EPIPE, "weft_close returns the flush's -EPIPE (pipe)");
  ok(strncmp(weft_last_error_message(), "close:", 6) == 0,
     "the message names close (%s)", weft_last_error_message());
  int kind;
  is(weft_handle_kind(s, &kind), WEFT_EBADHANDLE, "and the handle is closed");
  is(weft_close(s), WEFT_EBADHANDLE, "closing again is WEFT_EBADHANDLE");

  mkpair(p);
  s = mkstream(p[0], "rw", -1);
  weft_stream_write(s, "lost", 4, &n);
  close(p[1]);
  weft_status st = weft_close(s);
  ok(st == -EPIPE || st == -ECONNRESET,
     "socket pair, peer closed: weft_close returns the flush's error (%s)",
     weft_err_name(st));
  is(weft_handle_kind(s, &kind), WEFT_EBADHANDLE, "and the handle is closed");
  close(p[0]);

  /* A flush that cannot finish within the stream's timeout. */
  mkpipe(p);
  s = mkstream(p[1], "w", -1);
  fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
  char fill[4096];
  memset(fill, 'f', sizeof fill);
  while (write(p[1], fill, sizeof fill) > 0)
    ; /* the pipe is full */
  weft_stream_write(s, "late", 4, &n);
  weft_stream_set_timeout(s, 0.05);
  is(weft_close(s), -ETIMEDOUT,
     "weft_close of a stream whose flush times out: -ETIMEDOUT");
  is(weft_handle_kind(s, &kind), WEFT_EBADHANDLE, "and the handle is closed");
  close(p[0]);
  close(p[1]);
}

/* The child of test_no_sigpipe: SIGPIPE at its default disposition, a
 * write to a pipe with no reader. */
static int sigpipe_child(void) {
  signal(SIGPIPE, SIG_DFL);
  int p[2];
  mkpipe(p);
  close(p[0]);
  weft_handle s = mkstream(p[1], "w", 0);
  size_t n = 99;
  weft_status st = weft_stream_write(s, "x", 1, &n);
  sigset_t pending;
  sigpending(&pending);
  return st == -EPIPE && n == 0 && !sigismember(&pending, SIGPIPE) ? 0 : 1;
}

static void test_no_sigpipe(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0)
    _exit(sigpipe_child());
  int status = 0;
  waitpid(pid, &status, 0);
  ok(!WIFSIGNALED(status), "writing to a pipe with no reader does not kill "
                           "the process (SIGPIPE default)");
  ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
     "the child saw -EPIPE, nothing written, no SIGPIPE pending");

  /* The same here, and the caller's signal mask is left as it was. */
  void (*old)(int) = signal(SIGPIPE, SIG_DFL);
  sigset_t before, after, pending;
  pthread_sigmask(SIG_SETMASK, NULL, &before);
  int p[2];
  mkpipe(p);
  close(p[0]);
  weft_handle s = mkstream(p[1], "w", -1);
  size_t n = 0;
  weft_stream_write(s, "abc", 3, &n);
  is(weft_stream_flush(s), -EPIPE, "flush to a pipe with no reader: -EPIPE");
  is(weft_close(s), -EPIPE, "so does the close");
  pthread_sigmask(SIG_SETMASK, NULL, &after);
  ok(sigismember(&after, SIGPIPE) == sigismember(&before, SIGPIPE),
     "the signal mask is restored");
  sigpending(&pending);
  ok(!sigismember(&pending, SIGPIPE), "no SIGPIPE is left pending");
  signal(SIGPIPE, old);
  close(p[1]);
}

/* ---- modes ---- */

static void test_nonblocking(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", 16);
  weft_stream_set_timeout(s, 0);
  char buf[256];
  size_t n = 0;
  is(weft_stream_read(s, buf, 5, &n), -EAGAIN,
     "non-blocking read with nothing there: -EAGAIN");
  put(p[1], "ab");
  is(weft_stream_read(s, buf, 5, &n), -EAGAIN,
     "read(5) with 2 bytes there: -EAGAIN, not a short read");
  put(p[1], "cde");
  is(weft_stream_read(s, buf, 5, &n), 0, "read(5) once all 5 came");
  is_bytes(buf, n, "abcde", "the first 2 bytes were kept");
  put(p[1], "x1234567890123456789012345");
  is(weft_stream_read(s, buf, 40, &n), -EAGAIN,
     "a large read (straight to the caller) short of data: -EAGAIN");
  put(p[1], "67890abcd\n");
  is(weft_stream_read(s, buf, 35, &n), 0, "then the rest");
  is_bytes(buf, n, "x123456789012345678901234567890abcd",
           "nothing of the large read was lost");
  rdline(s, -1, buf, sizeof buf, &n);
  put(p[1], "par");
  is(rdline(s, -1, buf, sizeof buf, &n), -EAGAIN,
     "readline of a partial line: -EAGAIN");
  put(p[1], "tial\n");
  is(rdline(s, -1, buf, sizeof buf, &n), 0, "readline once it is whole");
  is_bytes(buf, n, "partial\n", "the partial line was kept");
  put(p[1], "rest");
  is(weft_stream_readall(s, buf, sizeof buf, &n), -EAGAIN,
     "readall before the end: -EAGAIN");
  close(p[1]);
  is(weft_stream_readall(s, buf, sizeof buf, &n), 0, "readall at the end");
  is_bytes(buf, n, "rest", "gets everything");
  weft_close(s);
  close(p[0]);

  /* Writes: a full pipe takes what it can, and *written says exactly. */
  mkpipe(p);
  s = mkstream(p[1], "w", 0);
  weft_stream_set_timeout(s, 0);
  size_t len = 1 << 20;
  char *big = malloc(len);
  memset(big, 'z', len);
  n = 0;
  is(weft_stream_write(s, big, len, &n), -EAGAIN,
     "non-blocking write to a full pipe: -EAGAIN");
  ok(n > 0 && n < len, "having taken part of it (%zu)", n);
  size_t got = grab(p[0], big, len);
  is(got, n, "the pipe holds exactly *written bytes");
  weft_close(s);
  free(big);
  close(p[0]);
  close(p[1]);
}

static void test_timeout(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", 16);
  weft_stream_set_timeout(s, 0.05);
  char buf[256];
  size_t n = 0;
  is(weft_stream_read(s, buf, 5, &n), -ETIMEDOUT,
     "timeout mode, nothing there: -ETIMEDOUT");
  ok(strncmp(weft_last_error_message(), "stream_read:", 12) == 0,
     "the message names stream_read (%s)", weft_last_error_message());
  put(p[1], "ab");
  is(weft_stream_read(s, buf, 5, &n), -ETIMEDOUT,
     "read(5) with 2 bytes: -ETIMEDOUT");
  put(p[1], "cde");
  weft_stream_read(s, buf, 5, &n);
  is_bytes(buf, n, "abcde", "the 2 bytes read before the timeout were kept");
  put(p[1], "0123456789012345678901234");
  is(weft_stream_read(s, buf, 30, &n), -ETIMEDOUT,
     "a large read short of data: -ETIMEDOUT");
  put(p[1], "abcde");
  weft_stream_read(s, buf, 30, &n);
  is_bytes(buf, n, "0123456789012345678901234abcde",
           "nothing of it was lost");
  put(p[1], "half");
  is(rdline(s, -1, buf, sizeof buf, &n), -ETIMEDOUT,
     "readline of half a line: -ETIMEDOUT");
  put(p[1], " and half\n");
  rdline(s, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "half and half\n", "the first half was kept");
  weft_close(s);
  close(p[0]);
  close(p[1]);

  mkpipe(p);
  s = mkstream(p[1], "w", -1);
  weft_stream_set_timeout(s, 0.05);
  size_t len = 1 << 20;
  char *big = malloc(len);
  memset(big, 'q', len);
  is(weft_stream_write(s, big, len, &n), -ETIMEDOUT,
     "a write to a full pipe in timeout mode: -ETIMEDOUT");
  ok(n > 0 && n < len, "having taken part of it (%zu)", n);
  size_t got = grab(p[0], big, len);
  is(got, n, "the pipe holds exactly *written bytes");
  is(weft_close(s), 0, "close (the buffer is empty)");
  free(big);
  close(p[0]);
  close(p[1]);
}

/* ---- threads: interrupt, close, both sides at once ---- */

static void test_interrupt(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", -1);
  put(p[1], "par");
  job j = {.call = call_readline, .h = s, .limit = -1};
  job_start(&j);
  ok(wait_in_poll(atomic_load(&j.tid)), "readline blocks");
  is(weft_thread_interrupt(j.self), 0, "interrupt it");
  is(job_join(&j), -EINTR, "readline returns -EINTR");
  put(p[1], "tial\n");
  char buf[64];
  size_t n = 0;
  rdline(s, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "partial\n", "nothing it read was lost");

  put(p[1], "0123");
  j = (job){.call = call_read, .h = s, .cap = 100};
  job_start(&j);
  ok(wait_in_poll(atomic_load(&j.tid)), "read(100) blocks");
  weft_thread_interrupt(j.self);
  is(job_join(&j), -EINTR, "read returns -EINTR");
  put(p[1], "4567");
  is(weft_stream_read1(s, buf, sizeof buf, &n), 0, "read1");
  is_bytes(buf, n, "0123", "the bytes the interrupted read had are kept");
  weft_close(s);
  close(p[0]);
  close(p[1]);

  mkpipe(p);
  s = mkstream(p[1], "w", -1);
  size_t len = 1 << 20;
  char *big = malloc(len);
  memset(big, 'i', len);
  j = (job){.call = call_write, .h = s, .data = big, .len = len};
  job_start(&j);
  ok(wait_in_poll(atomic_load(&j.tid)), "a write to a full pipe blocks");
  weft_thread_interrupt(j.self);
  is(job_join(&j), -EINTR, "write returns -EINTR");
  size_t got = grab(p[0], big, len);
  ok(j.n > 0 && j.n == got, "*written (%zu) is what went (%zu)", j.n, got);
  weft_close(s);
  free(big);
  close(p[0]);
  close(p[1]);
}

static void test_close_wakes(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "r", -1);
  job a = {.call = call_readline, .h = s, .limit = -1};
  job b = {.call = call_read, .h = s, .cap = 10};
  job_start(&a);
  ok(wait_in_poll(atomic_load(&a.tid)), "a reader blocks in readline");
  job_start(&b);
  ok(wait_in_futex(atomic_load(&b.tid)),
     "a second reader waits for the read side");
  is(weft_close(s), 0, "close the stream");
  is(job_join(&a), WEFT_ECLOSED, "the blocked reader gets WEFT_ECLOSED");
  is(job_join(&b), WEFT_ECLOSED, "so does the one waiting for the side");
  close(p[0]);
  close(p[1]);

  /* A writer blocked on a full pipe does not hold up close. */
  mkpipe(p);
  s = mkstream(p[1], "w", -1);
  size_t len = 1 << 20;
  char *big = malloc(len);
  memset(big, 'c', len);
  a = (job){.call = call_write, .h = s, .data = big, .len = len};
  job_start(&a);
  ok(wait_in_poll(atomic_load(&a.tid)), "a writer blocks on a full pipe");
  b = (job){.call = call_flush, .h = s};
  job_start(&b);
  ok(wait_in_futex(atomic_load(&b.tid)), "a flush waits for the write side");
  is(weft_close(s), 0, "close does not wait for them (nothing buffered)");
  is(job_join(&a), WEFT_ECLOSED, "the blocked writer gets WEFT_ECLOSED");
  is(job_join(&b), WEFT_ECLOSED, "so does the waiting flush");
  size_t got = grab(p[0], big, len);
  is(got, a.n, "*written says what went");
  free(big);
  close(p[0]);
  close(p[1]);

  /* Interrupting a thread that waits for a side. */
  mkpipe(p);
  s = mkstream(p[0], "r", -1);
  a = (job){.call = call_readline, .h = s, .limit = -1};
  b = (job){.call = call_readline, .h = s, .limit = -1};
  job_start(&a);
  wait_in_poll(atomic_load(&a.tid));
  job_start(&b);
  ok(wait_in_futex(atomic_load(&b.tid)), "a reader waits for the side");
  weft_thread_interrupt(b.self);
  is(job_join(&b), -EINTR, "interrupting it gives -EINTR");
  put(p[1], "line\n");
  is(job_join(&a), 0, "the first reader goes on");
  is_bytes(a.buf, a.n, "line\n", "and gets the line");
  weft_close(s);
  close(p[0]);
  close(p[1]);
}

/* A call that fails before it does anything says so in its count: the
 * bindings resume a write after *written bytes when it fails with -EINTR
 * (a garbage count would move their buffer pointer anywhere). */
static void test_failed_counts(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[1], "w", -1);
  size_t len = 1 << 20;
  char *big = malloc(len);
  memset(big, 'f', len);
  job a = {.call = call_write, .h = s, .data = big, .len = len};
  job b = {.call = call_write, .h = s, .data = "x", .len = 1, .n = 12345};
  job_start(&a);
  ok(wait_in_poll(atomic_load(&a.tid)), "a writer blocks on a full pipe");
  job_start(&b);
  ok(wait_in_futex(atomic_load(&b.tid)), "a second writer waits for the side");
  weft_thread_interrupt(b.self);
  is(job_join(&b), -EINTR, "interrupted while it waits: -EINTR");
  is(b.n, 0, "and *written is 0 (nothing was taken)");
  weft_thread_interrupt(a.self);
  is(job_join(&a), -EINTR, "the first writer is interrupted too");
  weft_close(s);
  free(big);

  weft_handle r = mkstream(p[0], "r", -1);
  size_t n = 12345;
  is(weft_stream_write(r, "x", 1, &n), -EBADF, "write on a read-only stream");
  is(n, 0, "sets *written to 0");
  weft_handle w = mkstream(p[1], "w", -1);
  char buf[8];
  n = 12345;
  is(weft_stream_read(w, buf, sizeof buf, &n), -EBADF,
     "read on a write-only stream");
  is(n, 0, "sets *n to 0");
  n = 12345;
  is(weft_stream_readline(w, -1, buf, sizeof buf, &n), -EBADF,
     "readline on a write-only stream");
  is(n, 0, "sets *n to 0");
  weft_close(r);
  weft_close(w);
  n = 12345;
  is(weft_stream_write(w, "x", 1, &n), WEFT_EBADHANDLE,
     "write on a closed stream");
  is(n, 0, "sets *written to 0");
  close(p[0]);
  close(p[1]);
}

static void test_both_sides(void) {
  int p[2];
  mkpair(p);
  weft_handle s = mkstream(p[0], "rw", -1);
  job r = {.call = call_readline, .h = s, .limit = -1};
  job_start(&r);
  ok(wait_in_poll(atomic_load(&r.tid)), "a reader blocks on the rw stream");
  size_t n = 0;
  is(weft_stream_write(s, "ping\n", 5, &n), 0,
     "another thread writes meanwhile");
  is(weft_stream_flush(s), 0, "and flushes");
  ok(!atomic_load(&r.done), "while the reader is still blocked");
  char buf[16];
  n = take_bytes(p[1], buf, 5);
  is_bytes(buf, n, "ping\n", "the peer got the write");
  put(p[1], "pong\n");
  is(job_join(&r), 0, "the reader wakes");
  is_bytes(r.buf, r.n, "pong\n", "with the peer's line");
  weft_close(s);
  close(p[0]);
  close(p[1]);
}

/* ---- misuse ---- */

static void test_wrong_side(void) {
  int p[2];
  mkpipe(p);
  weft_handle w = mkstream(p[1], "w", -1);
  weft_handle r = mkstream(p[0], "r", -1);
  char buf[8];
  size_t n;
  is(weft_stream_read(w, buf, sizeof buf, &n), -EBADF,
     "read on a write-only stream: -EBADF");
  ok(strcmp(weft_last_error_message(),
            "stream_read: stream is not readable") == 0,
     "message: %s", weft_last_error_message());
  is(weft_stream_read1(w, buf, sizeof buf, &n), -EBADF, "read1 too");
  is(weft_stream_readall(w, buf, sizeof buf, &n), -EBADF, "readall too");
  is(weft_stream_readline(w, -1, buf, sizeof buf, &n), -EBADF,
     "readline too");
  is(weft_stream_write(r, "x", 1, &n), -EBADF,
     "write on a read-only stream: -EBADF");
  ok(strcmp(weft_last_error_message(),
            "stream_write: stream is not writable") == 0,
     "message: %s", weft_last_error_message());
  is(weft_stream_flush(r), 0, "flush of a read-only stream does nothing");
  weft_close(w);
  weft_close(r);
  close(p[0]);
  close(p[1]);
}

static void test_bad_handles(void) {
  int p[2];
  mkpipe(p);
  weft_handle closed = mkstream(p[0], "rw", -1);
  weft_close(closed);
  weft_handle lock;
  weft_lock_new(&lock);
  weft_handle bad[] = {0, -1, BIG, closed, lock};
  const char *names[] = {"0", "-1", "2^53", "a closed stream", "a Lock"};
  for (int i = 0; i < 5; i++) {
    weft_handle h = bad[i];
    char buf[8];
    size_t n;
    int v;
    double t;
    int all = weft_stream_read(h, buf, 8, &n) == WEFT_EBADHANDLE &&
              weft_stream_read1(h, buf, 8, &n) == WEFT_EBADHANDLE &&
              weft_stream_readall(h, buf, 8, &n) == WEFT_EBADHANDLE &&
              weft_stream_readline(h, -1, buf, 8, &n) == WEFT_EBADHANDLE &&
              weft_stream_write(h, "x", 1, &n) == WEFT_EBADHANDLE &&
              weft_stream_flush(h) == WEFT_EBADHANDLE &&
              weft_stream_fileno(h, &v) == WEFT_EBADHANDLE &&
              weft_stream_readable(h, &v) == WEFT_EBADHANDLE &&
              weft_stream_writable(h, &v) == WEFT_EBADHANDLE &&
              weft_stream_set_timeout(h, 1) == WEFT_EBADHANDLE &&
              weft_stream_get_timeout(h, &t) == WEFT_EBADHANDLE;
    ok(all, "every stream call refuses %s with WEFT_EBADHANDLE", names[i]);
  }
  weft_stream_flush(lock);
  ok(strncmp(weft_last_error_message(), "stream_flush:", 13) == 0,
     "the message names the call (%s)", weft_last_error_message());
  weft_close(lock);
  close(p[0]);
  close(p[1]);
}

static void test_arguments(void) {
  int p[2];
  mkpipe(p);
  weft_handle s = mkstream(p[0], "rw", -1);
  char buf[8];
  size_t n;
  int v;
  double t;
  is(weft_stream_read(s, buf, 8, NULL), WEFT_EVALUE, "read: NULL n");
  is(weft_stream_read1(s, buf, 8, NULL), WEFT_EVALUE, "read1: NULL n");
  is(weft_stream_readall(s, buf, 8, NULL), WEFT_EVALUE, "readall: NULL n");
  is(weft_stream_readline(s, -1, buf, 8, NULL), WEFT_EVALUE,
     "readline: NULL n");
  is(weft_stream_write(s, "x", 1, NULL), WEFT_EVALUE, "write: NULL written");
  is(weft_stream_fileno(s, NULL), WEFT_EVALUE, "fileno: NULL");
  is(weft_stream_readable(s, NULL), WEFT_EVALUE, "readable: NULL");
  is(weft_stream_writable(s, NULL), WEFT_EVALUE, "writable: NULL");
  is(weft_stream_get_timeout(s, NULL), WEFT_EVALUE, "get_timeout: NULL");
  is(weft_stream_read(s, NULL, 8, &n), WEFT_EVALUE, "read: NULL buf, cap 8");
  is(weft_stream_readline(s, -1, NULL, 8, &n), WEFT_EVALUE,
     "readline: NULL buf, cap 8");
  is(weft_stream_write(s, NULL, 1, &n), WEFT_EVALUE, "write: NULL buf, len 1");
  is(weft_stream_read(s, NULL, 0, &n), 0, "read: NULL buf, cap 0 is fine");
  is(weft_stream_read(s, buf, SIZE_MAX, &n), WEFT_EVALUE,
     "read: cap SIZE_MAX (-1 through an FFI)");
  ok(strstr(weft_last_error_message(), "negative or too big") != NULL,
     "message: %s", weft_last_error_message());
  is(weft_stream_read1(s, buf, (size_t)SSIZE_MAX + 1, &n), WEFT_EVALUE,
     "read1: cap SSIZE_MAX + 1");
  is(weft_stream_readall(s, buf, SIZE_MAX, &n), WEFT_EVALUE,
     "readall: cap SIZE_MAX");
  is(weft_stream_readline(s, -1, buf, SIZE_MAX, &n), WEFT_EVALUE,
     "readline: cap SIZE_MAX");
  is(weft_stream_write(s, "x", SIZE_MAX, &n), WEFT_EVALUE,
     "write: len SIZE_MAX");
  (void)v;
  (void)t;
  weft_close(s);
  close(p[0]);
  close(p[1]);
}

static void test_fork(void) {
  int p[2];
  mkpipe(p);
  weft_handle r = mkstream(p[0], "r", -1);
  weft_handle w = mkstream(p[1], "w", -1);
  size_t n;
  weft_stream_write(w, "from parent\n", 12, &n);
  weft_stream_flush(w);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char buf[32];
    size_t m = 0;
    weft_status st = weft_stream_readline(r, -1, buf, sizeof buf, &m);
    st = st == 0 && same(buf, m, "from parent\n") ? 0 : 1;
    weft_stream_write(w, "from child\n", 11, &m);
    _exit(st == 0 && weft_close(w) == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
     "a fork child reads, writes and closes the parent's streams");
  char buf[32];
  rdline(r, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "from child\n", "its write arrived");
  weft_close(r);
  weft_close(w);
  close(p[0]);
  close(p[1]);
}

int main(void) {
  test_new();
  test_read_across_writes();
  test_eof_not_sticky();
  test_read1();
  test_readall();
  test_readline();
  test_long_line();
  test_readline_erange();
  test_readinto();
  test_write_flush();
  test_line_buffered();
  test_unbuffered();
  test_independent();
  test_close_flushes();
  test_close_flush_error();
  test_no_sigpipe();
  test_nonblocking();
  test_timeout();
  test_interrupt();
  test_close_wakes();
  test_failed_counts();
  test_both_sides();
  test_wrong_side();
  test_bad_handles();
  test_arguments();
  test_fork();
  return done_testing();
}
