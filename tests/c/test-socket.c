/* test-socket.c - sockets: creation, echo over TCP v4/v6, UNIX and UDP,
 * names, options, descriptors, bad input. */
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "socket-util.h"

/* ---- an echo server on a weft thread ---- */

typedef struct echo {
  weft_handle listen;
  int type;
  _Atomic long echoed;
} echo;

/* Stream: accept one connection, echo until EOF. */
static int echo_stream(void *arg) {
  echo *e = arg;
  weft_handle c;
  if (weft_socket_accept(e->listen, NULL, 0, &(size_t){0}, &c) != 0)
    return 1;
  char buf[4096];
  size_t n, sent;
  while (weft_socket_recv(c, 0, buf, sizeof buf, &n) == 0 && n > 0) {
    if (weft_socket_sendall(c, buf, n, 0, &sent) != 0)
      break;
    atomic_fetch_add(&e->echoed, (long)n);
  }
  weft_close(c);
  return 0;
}

/* Datagram: echo one datagram back to its sender. */
static int echo_dgram(void *arg) {
  echo *e = arg;
  char buf[2048];
  addr from;
  size_t n, sent;
  if (weft_socket_recvfrom(e->listen, 0, buf, sizeof buf, &n, from.b,
                           sizeof from.b, &from.len) != 0)
    return 1;
  if (weft_socket_sendto(e->listen, buf, n, 0, from.b, from.len, &sent) != 0)
    return 2;
  atomic_fetch_add(&e->echoed, (long)n);
  return 0;
}

static void echo_over(int family, int type, const char *label) {
  echo e = {0};
  addr a;
  weft_handle l = listener(family, type, &a), t, c;
  e.listen = l;
  e.type = type;
  weft_thread_new(type == SOCK_STREAM ? echo_stream : echo_dgram, &e, NULL,
                  &t);
  weft_thread_start(t);
  is(weft_socket_new(family, type, 0, &c), 0, "%s: a client socket", label);
  const char msg[] = "hello, weft";
  size_t sent = 0, n = 0;
  char back[64] = {0};
  if (type == SOCK_STREAM) {
    is(weft_socket_connect(c, a.b, a.len), 0, "%s: connect", label);
    is(weft_socket_sendall(c, msg, sizeof msg, 0, &sent), 0,
       "%s: sendall", label);
    is(sent, sizeof msg, "%s: all of it went", label);
    is(weft_socket_recv(c, MSG_WAITALL, back, sizeof msg, &n), 0,
       "%s: recv the echo", label);
  } else {
    is(weft_socket_sendto(c, msg, sizeof msg, 0, a.b, a.len, &sent), 0,
       "%s: sendto", label);
    addr from;
    is(weft_socket_recvfrom(c, 0, back, sizeof back, &n, from.b,
                            sizeof from.b, &from.len),
       0, "%s: recvfrom the echo", label);
    ok(port_of(&from) == port_of(&a), "%s: from the server's address",
       label);
  }
  ok(n == sizeof msg && memcmp(back, msg, n) == 0, "%s: the echo is intact",
     label);
  if (type == SOCK_STREAM) {
    addr peer, mine;
    is(weft_socket_getpeername(c, peer.b, sizeof peer.b, &peer.len), 0,
       "%s: getpeername", label);
    ok(port_of(&peer) == port_of(&a) && strcmp(host_of(&peer), host_of(&a)) == 0,
       "%s: is the server's address (%s)", label, host_of(&peer));
    is(sockname(c, &mine), 0, "%s: getsockname", label);
    ok(port_of(&mine) > 0, "%s: has a port of its own", label);
    weft_socket_shutdown(c, SHUT_WR);
    is(weft_socket_recv(c, 0, back, sizeof back, &n), 0,
       "%s: recv after the server saw our shutdown", label);
    is(n, 0, "%s: is the end of the stream", label);
  }
  is(weft_thread_join(t, 10), 0, "%s: the server finished", label);
  int result = -1;
  weft_thread_get_result(t, &result);
  is(result, 0, "%s: without error", label);
  weft_close(t);
  weft_close(c);
  weft_close(l);
}

static void test_unix_echo(const char *label, const char *name, size_t len) {
  weft_handle l, c, s;
  addr a;
  is(weft_socket_new(AF_UNIX, SOCK_STREAM, 0, &l), 0, "%s: socket", label);
  is(weft_sockaddr_make(AF_UNIX, name, len, 0, 0, 0, a.b, sizeof a.b, &a.len),
     0, "%s: address", label);
  is(weft_socket_bind(l, a.b, a.len), 0, "%s: bind", label);
  is(weft_socket_listen(l, 4), 0, "%s: listen", label);
  weft_socket_new(AF_UNIX, SOCK_STREAM, 0, &c);
  is(weft_socket_connect(c, a.b, a.len), 0, "%s: connect", label);
  addr peer;
  is(weft_socket_accept(l, peer.b, sizeof peer.b, &peer.len, &s), 0,
     "%s: accept", label);
  size_t sent, n;
  char buf[16];
  weft_socket_send(c, "ping", 4, 0, &sent);
  is(weft_socket_recv(s, 0, buf, sizeof buf, &n), 0, "%s: recv", label);
  ok(n == 4 && memcmp(buf, "ping", 4) == 0, "%s: data intact", label);
  addr mine;
  sockname(l, &mine);
  int family, port;
  uint32_t fl, sc;
  char host[128];
  size_t hl;
  weft_sockaddr_parse(mine.b, mine.len, &family, host, sizeof host, &hl,
                      &port, &fl, &sc);
  ok(hl == len && memcmp(host, name, len) == 0,
     "%s: getsockname gives the name back", label);
  weft_close(s);
  weft_close(c);
  weft_close(l);
}

static void test_echo(void) {
  echo_over(AF_INET, SOCK_STREAM, "TCP v4");
  int has6 = 0;
  weft_socket_has_ipv6(&has6);
  weft_handle probe;
  addr a6;
  if (has6 && weft_socket_new(AF_INET6, SOCK_STREAM, 0, &probe) == 0 &&
      mk_addr(AF_INET6, "::1", 0, &a6) == 0 &&
      weft_socket_bind(probe, a6.b, a6.len) == 0) {
    weft_close(probe);
    echo_over(AF_INET6, SOCK_STREAM, "TCP v6");
    echo_over(AF_INET6, SOCK_DGRAM, "UDP v6");
  } else {
    printf("ok %d # SKIP no IPv6 loopback here\n", ++tap_n);
  }
  echo_over(AF_INET, SOCK_DGRAM, "UDP v4");
  char path[64];
  snprintf(path, sizeof path, "/tmp/weft-test-%d.sock", (int)getpid());
  unlink(path);
  test_unix_echo("UNIX path", path, strlen(path));
  unlink(path);
  char abs_name[32];
  int alen = snprintf(abs_name, sizeof abs_name, "%cweft%c%d", 0, 0,
                      (int)getpid());
  test_unix_echo("UNIX abstract", abs_name, (size_t)alen);
}

/* ---- creation and descriptors ---- */

static void test_creation(void) {
  weft_handle s, a, b;
  int v = -1;
  is(weft_socket_new(AF_INET, SOCK_STREAM, 0, &s), 0, "socket_new");
  int kind = 0;
  weft_handle_kind(s, &kind);
  is(kind, WEFT_KIND_SOCKET, "is a socket handle");
  int fd;
  weft_socket_fileno(s, &fd);
  ok(is_cloexec(fd), "its descriptor is close-on-exec");
  ok(fcntl(fd, F_GETFL) & O_NONBLOCK, "and O_NONBLOCK underneath");
  weft_socket_get_family(s, &v);
  is(v, AF_INET, "get_family");
  weft_socket_get_type(s, &v);
  is(v, SOCK_STREAM, "get_type");
  weft_socket_get_proto(s, &v);
  is(v, 0, "get_proto");
  double t = 0;
  weft_socket_get_timeout(s, &t);
  ok(t == -1, "a new socket is blocking (timeout -1)");
  weft_socket_get_blocking(s, &v);
  is(v, 1, "get_blocking says 1");
  weft_close(s);

  is(weft_socket_new(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0, &s), 0,
     "SOCK_NONBLOCK in type");
  weft_socket_get_type(s, &v);
  is(v, SOCK_DGRAM, "the type is reported without it");
  weft_socket_get_timeout(s, &t);
  ok(t == 0, "and the socket starts non-blocking");
  weft_close(s);

  weft_status st = weft_socket_new(AF_INET, SOCK_RAW, IPPROTO_ICMP, &s);
  ok(st == 0 || st == -EPERM || st == -EACCES,
     "SOCK_RAW works, or is refused for privilege (%s)", weft_err_name(st));
  if (st == 0)
    weft_close(s);
  is(weft_socket_new(AF_UNIX, SOCK_SEQPACKET, 0, &s), 0, "SOCK_SEQPACKET");
  weft_close(s);

  is(weft_socket_pair_new(AF_UNIX, SOCK_STREAM, 0, &a, &b), 0, "socket_pair");
  weft_socket_fileno(a, &fd);
  ok(is_cloexec(fd), "pair descriptors are close-on-exec");
  size_t n, sent;
  char buf[8];
  weft_socket_send(a, "xy", 2, 0, &sent);
  weft_socket_recv(b, 0, buf, sizeof buf, &n);
  ok(n == 2 && memcmp(buf, "xy", 2) == 0, "the pair is connected");

  /* fromfd dups; -1 reads the descriptor's own values. */
  int raw[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, raw);
  is(weft_socket_fromfd_new(raw[0], -1, -1, -1, &s), 0, "fromfd");
  weft_socket_fileno(s, &fd);
  ok(fd != raw[0] && is_cloexec(fd), "on a close-on-exec duplicate");
  weft_socket_get_family(s, &v);
  is(v, AF_UNIX, "family read from the descriptor");
  weft_socket_get_type(s, &v);
  is(v, SOCK_DGRAM, "type read from the descriptor");
  size_t got_n;
  send(raw[1], "q", 1, 0);
  is(weft_socket_recv(s, 0, buf, sizeof buf, &got_n), 0,
     "fromfd's socket receives");
  ok(!(fcntl(raw[0], F_GETFL) & O_NONBLOCK),
     "and the caller's descriptor stays blocking");
  weft_close(s);
  ok(fd_open(raw[0]), "closing it leaves the caller's descriptor open");
  close(raw[0]);
  close(raw[1]);
  /* A listener handed over: its first accept sets O_NONBLOCK. */
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof sin;
  bind(lfd, (struct sockaddr *)&sin, sizeof sin);
  listen(lfd, 4);
  getsockname(lfd, (struct sockaddr *)&sin, &sl);
  weft_handle ls, conn;
  is(weft_socket_fromfd_new(lfd, -1, -1, -1, &ls), 0, "fromfd of a listener");
  int cfd = socket(AF_INET, SOCK_STREAM, 0);
  connect(cfd, (struct sockaddr *)&sin, sizeof sin);
  is(weft_socket_accept(ls, NULL, 0, &(size_t){0}, &conn), 0,
     "accepts through it");
  ok(fcntl(lfd, F_GETFL) & O_NONBLOCK,
     "which put the shared descriptor in O_NONBLOCK mode");
  weft_close(conn);
  weft_close(ls);
  close(cfd);
  close(lfd);

  int pipefd[2];
  pipe(pipefd);
  is(weft_socket_fromfd_new(pipefd[0], -1, -1, -1, &s), -ENOTSOCK,
     "fromfd of a pipe is -ENOTSOCK");
  close(pipefd[0]);
  close(pipefd[1]);
  is(weft_socket_fromfd_new(pipefd[0], -1, -1, -1, &s), -EBADF,
     "fromfd of a closed descriptor is -EBADF");

  /* detach hands the descriptor over. */
  weft_socket_fileno(a, &fd);
  int got = -1;
  is(weft_socket_detach(a, &got), 0, "detach");
  is(got, fd, "gives the descriptor");
  is(weft_socket_fileno(a, &fd), WEFT_EBADHANDLE, "and closes the handle");
  ok(fd_open(got), "but not the descriptor");
  ok(write(got, "z", 1) == 1, "which still works");
  weft_socket_recv(b, 0, buf, sizeof buf, &n);
  is(n, 1, "the peer gets what went through it");
  close(got);
  weft_close(b);

  is(weft_socket_new(12345, SOCK_STREAM, 0, &s), -EAFNOSUPPORT,
     "an unknown family is -EAFNOSUPPORT");
  ok(strncmp(weft_last_error_message(), "socket_new", 10) == 0,
     "with a message naming the call (%s)", weft_last_error_message());
}

static void test_accept_cloexec(void) {
  weft_handle c, s;
  tcp_pair(AF_INET, &c, &s);
  int fd;
  weft_socket_fileno(s, &fd);
  ok(is_cloexec(fd), "an accepted descriptor is close-on-exec");
  int type = 0, family = 0;
  weft_socket_get_type(s, &type);
  weft_socket_get_family(s, &family);
  ok(type == SOCK_STREAM && family == AF_INET,
     "an accepted socket has the listener's family and type");
  weft_close(c);
  weft_close(s);
}

static void test_default_timeout(void) {
  double t = 0;
  is(weft_socket_get_default_timeout(&t), 0, "get_default_timeout");
  ok(t == -1, "is -1 (blocking) at first");
  is(weft_socket_set_default_timeout(2.5), 0, "set_default_timeout");
  weft_handle c, s;
  tcp_pair(AF_INET, &c, &s);
  weft_socket_get_timeout(c, &t);
  ok(t == 2.5, "a new socket takes it");
  weft_socket_get_timeout(s, &t);
  ok(t == 2.5, "an accepted one too");
  weft_socket_set_default_timeout(-7);
  weft_socket_get_default_timeout(&t);
  ok(t == -1, "a negative default is blocking (-1)");
  is(weft_socket_set_default_timeout(NAN), WEFT_EVALUE, "NaN is WEFT_EVALUE");
  weft_socket_get_timeout(c, &t);
  ok(t == 2.5, "sockets made before keep theirs");
  is(weft_socket_set_timeout(c, NAN), WEFT_EVALUE,
     "set_timeout(NaN) is WEFT_EVALUE");
  weft_socket_set_blocking(c, 0);
  weft_socket_get_timeout(c, &t);
  ok(t == 0, "set_blocking(0) is timeout 0");
  weft_socket_set_blocking(c, 1);
  weft_socket_get_timeout(c, &t);
  ok(t == -1, "set_blocking(1) is timeout -1");
  weft_close(c);
  weft_close(s);
}

/* ---- options ---- */

static void test_options(void) {
  weft_handle s;
  weft_socket_new(AF_INET, SOCK_STREAM, 0, &s);
  int v = -1;
  is(weft_socket_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 1), 0,
     "setsockopt int");
  is(weft_socket_getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v), 0,
     "getsockopt int");
  is(v, 1, "reads it back");
  struct linger lg = {1, 5}, back = {0, 0};
  is(weft_socket_setsockopt_bytes(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg),
     0, "setsockopt bytes (SO_LINGER)");
  size_t n = 0;
  is(weft_socket_getsockopt_bytes(s, SOL_SOCKET, SO_LINGER, &back,
                                  sizeof back, &n),
     0, "getsockopt bytes");
  ok(n == sizeof back && back.l_onoff == 1 && back.l_linger == 5,
     "reads the struct back");
  char big[2000];
  is(weft_socket_getsockopt_bytes(s, SOL_SOCKET, SO_LINGER, big, sizeof big,
                                  &n),
     WEFT_EVALUE, "getsockopt buflen above 1024 is WEFT_EVALUE");
  is(weft_socket_getsockopt_bytes(s, SOL_SOCKET, SO_LINGER, big, 0, &n),
     WEFT_EVALUE, "buflen 0 is WEFT_EVALUE");
  is(weft_socket_getsockopt(s, SOL_SOCKET, 99999, &v), -ENOPROTOOPT,
     "an unknown option is -ENOPROTOOPT");
  is(weft_socket_setsockopt_bytes(s, SOL_SOCKET, SO_LINGER, &lg, SIZE_MAX),
     WEFT_EVALUE, "a negative option size is WEFT_EVALUE");
  weft_close(s);
}

/* ---- signals and errors ---- */

static void test_no_sigpipe(void) {
  weft_handle c, s;
  tcp_pair(AF_INET, &c, &s);
  weft_close(s);
  /* The first send may succeed (the RST has not come yet); keep going. */
  weft_status st = 0;
  size_t sent;
  char buf[1024] = {0};
  for (int i = 0; i < 100 && st == 0; i++) {
    st = weft_socket_send(c, buf, sizeof buf, 0, &sent);
    if (st == 0)
      sleep_s(0.005);
  }
  ok(st == -EPIPE || st == -ECONNRESET,
     "sending to a closed peer fails with -EPIPE or -ECONNRESET (%s), and "
     "no SIGPIPE killed us",
     weft_err_name(st));
  weft_close(c);

  weft_handle a, b;
  weft_socket_pair_new(AF_UNIX, SOCK_STREAM, 0, &a, &b);
  weft_close(b);
  is(weft_socket_send(a, "x", 1, 0, &sent), -EPIPE,
     "a UNIX pair's send after the peer closed is -EPIPE");
  weft_close(a);
}

static void test_refused(void) {
  addr a;
  weft_handle l = listener(AF_INET, SOCK_STREAM, &a), c;
  weft_close(l); /* nobody listens there now */
  weft_socket_new(AF_INET, SOCK_STREAM, 0, &c);
  is(weft_socket_connect(c, a.b, a.len), -ECONNREFUSED,
     "connect to a closed port is -ECONNREFUSED");
  char want[64];
  snprintf(want, sizeof want, "socket_connect 127.0.0.1:%d: ", port_of(&a));
  ok(strncmp(weft_last_error_message(), want, strlen(want)) == 0,
     "the message names the address (%s)", weft_last_error_message());
  weft_close(c);
  weft_socket_new(AF_INET, SOCK_STREAM, 0, &c);
  int err = -1;
  is(weft_socket_connect_ex(c, a.b, a.len, &err), 0,
     "connect_ex to a closed port returns 0");
  is(err, ECONNREFUSED, "with ECONNREFUSED as its value");
  weft_close(c);

  weft_handle ok_l = listener(AF_INET, SOCK_STREAM, &a);
  weft_socket_new(AF_INET, SOCK_STREAM, 0, &c);
  is(weft_socket_connect_ex(c, a.b, a.len, &err), 0, "connect_ex that works");
  is(err, 0, "gives 0");
  weft_close(c);
  weft_close(ok_l);

  weft_handle u;
  weft_socket_new(AF_INET, SOCK_STREAM, 0, &u);
  is(weft_socket_bind(u, a.b, a.len), 0, "bind");
  weft_handle u2;
  weft_socket_new(AF_INET, SOCK_STREAM, 0, &u2);
  weft_socket_listen(u, 1);
  is(weft_socket_bind(u2, a.b, a.len), -EADDRINUSE,
     "binding a port in use is -EADDRINUSE");
  weft_close(u);
  weft_close(u2);
}

static void test_create_connection(void) {
  addr a;
  weft_handle l = listener(AF_INET, SOCK_STREAM, &a), c, s;
  char port[16];
  snprintf(port, sizeof port, "%d", port_of(&a));
  is(weft_socket_create_connection("127.0.0.1", port, 5, NULL, NULL, &c), 0,
     "create_connection");
  double t;
  weft_socket_get_timeout(c, &t);
  ok(t == 5, "the socket keeps the timeout");
  is(weft_socket_accept(l, NULL, 0, &(size_t){0}, &s), 0,
     "the listener sees the connection");
  weft_close(c);
  weft_close(s);
  is(weft_socket_create_connection("localhost", port, -1, "127.0.0.1", "0",
                                   &c),
     0, "create_connection by name, with a source address");
  addr mine;
  sockname(c, &mine);
  ok(strcmp(host_of(&mine), "127.0.0.1") == 0, "bound to the source");
  weft_close(c);
  weft_socket_accept(l, NULL, 0, &(size_t){0}, &s);
  weft_close(s);
  weft_close(l);
  is(weft_socket_create_connection("localhost", port, -1, NULL, NULL, &c),
     -ECONNREFUSED, "create_connection to nobody is -ECONNREFUSED");
  ok(strstr(weft_last_error_message(), "127.0.0.1") != NULL,
     "the message lists the tries (%s)", weft_last_error_message());
  is(weft_socket_create_connection("no-such-host.invalid", "80", -1, NULL,
                                   NULL, &c),
     WEFT_EGAI, "an unknown host is WEFT_EGAI");
  is(weft_socket_create_connection(NULL, "80", -1, NULL, NULL, &c),
     WEFT_EVALUE, "a NULL host is WEFT_EVALUE");
  is(weft_socket_create_connection("127.0.0.1", "70000", -1, NULL, NULL, &c),
     WEFT_EVALUE, "port 70000 is WEFT_EVALUE (getaddrinfo would wrap it)");
  is(weft_socket_create_connection("127.0.0.1", "80", -1, "127.0.0.1",
                                   "-1", &c),
     WEFT_EVALUE, "so is a source port of -1");
}

/* ---- bad input ---- */

static void test_bad_input(void) {
  weft_handle lock, s, closed;
  weft_lock_new(&lock);
  weft_socket_new(AF_INET, SOCK_STREAM, 0, &closed);
  weft_close(closed);
  char buf[8];
  size_t n;
  int fd;
  is(weft_socket_recv(lock, 0, buf, sizeof buf, &n), WEFT_EBADHANDLE,
     "a Lock is not a socket");
  is(weft_socket_recv(closed, 0, buf, sizeof buf, &n), WEFT_EBADHANDLE,
     "a closed socket is WEFT_EBADHANDLE");
  is(weft_socket_fileno(0, &fd), WEFT_EBADHANDLE, "handle 0");
  is(weft_socket_fileno(-1, &fd), WEFT_EBADHANDLE, "handle -1");
  is(weft_close(closed), WEFT_EBADHANDLE, "closing twice");
  weft_socket_new(AF_INET, SOCK_DGRAM, 0, &s);
  is(weft_socket_recv(s, 0, buf, SIZE_MAX, &n), WEFT_EVALUE,
     "a negative buffer size is WEFT_EVALUE");
  is(weft_socket_recv(s, 0, NULL, 8, &n), WEFT_EVALUE,
     "a NULL buffer is WEFT_EVALUE");
  is(weft_socket_recv(s, 0, buf, 8, NULL), WEFT_EVALUE,
     "a NULL count is WEFT_EVALUE");
  is(weft_socket_send(s, buf, SIZE_MAX, 0, &n), WEFT_EVALUE,
     "a negative send size is WEFT_EVALUE");
  n = 99;
  is(weft_socket_sendall(closed, buf, 4, 0, &n), WEFT_EBADHANDLE,
     "sendall on a closed socket is WEFT_EBADHANDLE");
  is(n, 0, "and says it sent nothing (a binding's retry advances by it)");
  n = 99;
  weft_socket_sendall(s, buf, SIZE_MAX, 0, &n);
  is(n, 0, "so does a sendall refused for its size");
  n = 99;
  weft_socket_recv(closed, 0, buf, sizeof buf, &n);
  is(n, 0, "a failed recv says it received nothing");
  is(weft_socket_bind(s, NULL, 16), WEFT_EVALUE, "a NULL address");
  is(weft_socket_bind(s, buf, 1), WEFT_EVALUE, "a 1-byte address");
  addr a;
  mk_addr(AF_INET, "127.0.0.1", 0, &a);
  is(weft_socket_bind(s, a.b, 8), WEFT_EVALUE,
     "a sockaddr_in cut short");
  is(weft_socket_bind(s, a.b, 500), WEFT_EVALUE, "an address of 500 bytes");
  unsigned char small[16];
  size_t len = 0;
  is(weft_socket_getsockname(s, small, sizeof small, &len), WEFT_ERANGE,
     "an address buffer under WEFT_SOCKADDR_MAX is WEFT_ERANGE");
  is(len, WEFT_SOCKADDR_MAX, "with the size it must have");
  is(weft_socket_getsockname(s, NULL, 0, &len), 0,
     "NULL with cap 0 means not wanted");
  is(len, 0, "and gives length 0");
  is(weft_socket_sendto(s, "x", 1, 0, NULL, 0, &n), WEFT_EVALUE,
     "sendto without an address");
  is(weft_socket_new(AF_INET, SOCK_STREAM, 0, NULL), WEFT_EVALUE,
     "socket_new with a NULL out");
  weft_close(s);
  weft_close(lock);
}

int main(void) {
  signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test */
  test_echo();
  test_creation();
  test_accept_cloexec();
  test_default_timeout();
  test_options();
  test_no_sigpipe();
  test_refused();
  test_create_connection();
  test_bad_input();
  return done_testing();
}
