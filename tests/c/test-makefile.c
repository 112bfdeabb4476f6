/* test-makefile.c - weft_socket_makefile: a stream over a duplicate of a
 * socket's descriptor, with the socket's timeout. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "stream-util.h"

static void pair(weft_handle *a, weft_handle *b) {
  if (weft_socket_pair_new(AF_UNIX, SOCK_STREAM, 0, a, b) != 0)
    BAIL("socket_pair_new: %s", weft_last_error_message());
}

static void send_text(weft_handle sock, const char *text) {
  size_t sent = 0;
  if (weft_socket_sendall(sock, text, strlen(text), 0, &sent) != 0)
    BAIL("socket_sendall: %s", weft_last_error_message());
}

static void test_lines(void) {
  weft_handle a, b, f;
  pair(&a, &b);
  is(weft_socket_makefile(a, "rwb", -1, &f), 0, "makefile(\"rwb\")");
  int kind = 0;
  weft_handle_kind(f, &kind);
  is(kind, WEFT_KIND_STREAM, "gives a stream");
  int sfd = -1, ffd = -1;
  weft_socket_fileno(a, &sfd);
  weft_stream_fileno(f, &ffd);
  ok(ffd >= 0 && ffd != sfd, "over its own duplicate (%d, socket %d)", ffd,
     sfd);
  send_text(b, "hello\nworld\n");
  char buf[64];
  size_t n = 0;
  is(weft_stream_readline(f, -1, buf, sizeof buf, &n), 0, "readline");
  is_bytes(buf, n, "hello\n", "the first line");
  weft_stream_readline(f, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "world\n", "the second");
  is(weft_stream_write(f, "reply\n", 6, &n), 0, "write");
  is(weft_stream_flush(f), 0, "flush");
  is(weft_socket_recv(b, 0, buf, sizeof buf, &n), 0, "the peer receives");
  is_bytes(buf, n, "reply\n", "what the stream wrote");

  is(weft_close(a), 0, "close the socket");
  send_text(b, "after\n");
  is(weft_stream_readline(f, -1, buf, sizeof buf, &n), 0,
     "the stream reads after the socket was closed");
  is_bytes(buf, n, "after\n", "the peer's line");
  weft_stream_write(f, "still\n", 6, &n);
  is(weft_close(f), 0, "closing the stream flushes it");
  is(weft_socket_recv(b, 0, buf, sizeof buf, &n), 0, "the peer receives");
  is_bytes(buf, n, "still\n", "the flushed line");
  is(weft_socket_recv(b, 0, buf, sizeof buf, &n), 0, "then");
  is(n, 0, "the end: the stream's close closed the last descriptor");
  weft_close(b);
}

static void test_timeout(void) {
  weft_handle a, b, f;
  pair(&a, &b);
  double t = 0;
  weft_socket_makefile(a, "r", -1, &f);
  weft_stream_get_timeout(f, &t);
  ok(t == -1.0, "a blocking socket's stream is blocking (%g)", t);
  weft_close(f);

  weft_socket_set_timeout(a, 0.05);
  weft_socket_makefile(a, "rw", -1, &f);
  weft_stream_get_timeout(f, &t);
  ok(t == 0.05, "the stream takes the socket's timeout (%g)", t);
  char buf[64];
  size_t n = 0;
  send_text(b, "par");
  is(weft_stream_readline(f, -1, buf, sizeof buf, &n), -ETIMEDOUT,
     "readline times out as the socket would");
  send_text(b, "tial\n");
  weft_stream_readline(f, -1, buf, sizeof buf, &n);
  is_bytes(buf, n, "partial\n", "keeping what it had read");
  weft_socket_set_timeout(a, 5);
  weft_stream_get_timeout(f, &t);
  ok(t == 0.05, "a later change of the socket's timeout is not the stream's");
  weft_close(f);

  weft_socket_set_timeout(a, 0);
  weft_socket_makefile(a, "r", 0, &f);
  is(weft_stream_read(f, buf, sizeof buf, &n), -EAGAIN,
     "a non-blocking socket gives a non-blocking stream");
  weft_close(f);
  weft_close(a);
  weft_close(b);
}

static void test_arguments(void) {
  weft_handle a, b, f = 0;
  pair(&a, &b);
  is(weft_socket_makefile(a, "rx", -1, &f), WEFT_EVALUE, "a bad mode");
  ok(strncmp(weft_last_error_message(), "socket_makefile:", 16) == 0,
     "the message names socket_makefile (%s)", weft_last_error_message());
  is(weft_socket_makefile(a, "", -1, &f), WEFT_EVALUE, "an empty mode");
  is(weft_socket_makefile(a, NULL, -1, &f), WEFT_EVALUE, "a NULL mode");
  is(weft_socket_makefile(a, "r", -2, &f), WEFT_EVALUE, "buffering -2");
  is(weft_socket_makefile(a, "r", -1, NULL), WEFT_EVALUE, "a NULL out");
  is(weft_socket_makefile(0, "r", -1, &f), WEFT_EBADHANDLE, "handle 0");
  weft_handle s;
  weft_socket_makefile(a, "r", -1, &s);
  is(weft_socket_makefile(s, "r", -1, &f), WEFT_EBADHANDLE,
     "a stream is not a socket");
  size_t n;
  is(weft_stream_write(s, "x", 1, &n), -EBADF,
     "a makefile(\"r\") stream is not writable");
  weft_close(s);
  weft_close(a);
  is(weft_socket_makefile(a, "r", -1, &f), WEFT_EBADHANDLE,
     "a closed socket");
  weft_close(b);
}

int main(void) {
  test_lines();
  test_timeout();
  test_arguments();
  return done_testing();
}
