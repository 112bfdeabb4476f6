/* socket-util.h - helpers shared by the socket tests: addresses,
 * listeners, and telling that a thread is blocked in poll(2). */
#ifndef WEFT_SOCKET_UTIL_H
#define WEFT_SOCKET_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "sync-util.h"
#include "tap.h"
#include "weft.h"

/* An address: bytes and length. */
typedef struct addr {
  unsigned char b[WEFT_SOCKADDR_MAX];
  size_t len;
} addr;

/* weft_sockaddr_make for a text host (or bytes with explicit length). */
static inline weft_status mk_addr(int family, const char *host, int port,
                                  addr *a) {
  return weft_sockaddr_make(family, host, strlen(host), port, 0, 0, a->b,
                            sizeof a->b, &a->len);
}

/* The port of an AF_INET/AF_INET6 address (-1 if it does not parse). */
static inline int port_of(const addr *a) {
  int family, port;
  uint32_t flow, scope;
  char host[128];
  size_t hl;
  if (weft_sockaddr_parse(a->b, a->len, &family, host, sizeof host, &hl,
                          &port, &flow, &scope) != 0)
    return -1;
  return port;
}

/* The host text of an address ("" if it does not parse). */
static inline const char *host_of(const addr *a) {
  static _Thread_local char host[256];
  int family, port;
  uint32_t flow, scope;
  size_t hl;
  if (weft_sockaddr_parse(a->b, a->len, &family, host, sizeof host, &hl,
                          &port, &flow, &scope) != 0)
    host[0] = '\0';
  return host;
}

static inline weft_status sockname(weft_handle s, addr *a) {
  return weft_socket_getsockname(s, a->b, sizeof a->b, &a->len);
}

/* A listening socket of `family` on the loopback address, port chosen by
 * the system; its address in *bound.  Bails out on failure. */
static inline weft_handle listener(int family, int type, addr *bound) {
  weft_handle s;
  addr a;
  const char *host = family == AF_INET6 ? "::1" : "127.0.0.1";
  if (weft_socket_new(family, type, 0, &s) != 0)
    BAIL("listener: socket_new: %s", weft_last_error_message());
  weft_socket_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 1);
  if (mk_addr(family, host, 0, &a) != 0 || weft_socket_bind(s, a.b, a.len))
    BAIL("listener: bind: %s", weft_last_error_message());
  if (type == SOCK_STREAM && weft_socket_listen(s, 16) != 0)
    BAIL("listener: listen: %s", weft_last_error_message());
  if (sockname(s, bound) != 0)
    BAIL("listener: getsockname: %s", weft_last_error_message());
  return s;
}

/* A connected TCP pair over loopback: *client, *server. */
static inline void tcp_pair(int family, weft_handle *client,
                            weft_handle *server) {
  addr a, peer;
  weft_handle l = listener(family, SOCK_STREAM, &a);
  if (weft_socket_new(family, SOCK_STREAM, 0, client) != 0 ||
      weft_socket_connect(*client, a.b, a.len) != 0 ||
      weft_socket_accept(l, peer.b, sizeof peer.b, &peer.len, server) != 0)
    BAIL("tcp_pair: %s", weft_last_error_message());
  weft_close(l);
}

static inline int is_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFD);
  return fl >= 0 && (fl & FD_CLOEXEC);
}

static inline int fd_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

#endif
