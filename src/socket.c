/* socket.c - the socket kind: creation, the three modes (blocking,
 * non-blocking, timeout), connect/accept/send/recv and options.
 *
 * The descriptor never blocks: recv and send pass MSG_DONTWAIT, and
 * accept and connect need O_NONBLOCK, which sockets weft makes have from
 * the start (one from fromfd gets it on its first accept or connect); the
 * mode is weft's.  Every call
 * tries the system call first, and only when it would block waits as the
 * mode says (sock_wait): a deadline on the monotonic clock fixed when the
 * call began, so retries after a signal or a false readiness report keep
 * to it.  Waits are weft__fdq waits: weft_thread_interrupt ends them with
 * -EINTR, a close of the handle with WEFT_ECLOSED.  The descriptor is
 * closed by destroy, after the last pin, so it is never reused under a
 * thread still inside a call on it.
 *
 * Invariants: fd, family, type and proto never change after the handle is
 * issued; timeout and the two flags are atomics, read once per call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "fdwait.h"
#include "handle.h"
#include "pollable.h"
#include "socket.h"

typedef struct sockobj {
  int fd;
  int family, type, proto;
  _Atomic double timeout;       /* < 0 blocking, 0 non-blocking, > 0 */
  _Atomic int owns_fd;          /* 0 once detached */
  _Atomic int connect_pending;  /* an interrupted connect is under way */
  _Atomic int nonblock;         /* O_NONBLOCK is set on fd */
  weft__fdq q;                  /* threads blocked on the socket */
  weft__pollable pollable;      /* its registrations in pollers */
} sockobj;

static _Atomic double default_timeout = -1.0;

#define TEXT_MAX 160 /* an address as text, for messages */

/* ---- the kind ---- */

static void socket_close(void *obj) {
  sockobj *s = obj;
  weft__fdq_close(&s->q);
  weft__pollable_close(&s->pollable);
}

static void socket_destroy(void *obj) {
  sockobj *s = obj;
  if (atomic_load(&s->owns_fd))
    close(s->fd);
  weft__fdq_destroy(&s->q);
  weft__pollable_destroy(&s->pollable);
  free(s);
}

static void socket_atfork_child(void *obj) {
  sockobj *s = obj;
  weft__fdq_atfork_child(&s->q);
  weft__pollable_atfork_child(&s->pollable);
}

static const weft__kind_ops socket_ops = {.name = "socket",
                                          .close = socket_close,
                                          .destroy = socket_destroy,
                                          .atfork_child = socket_atfork_child};

__attribute__((constructor)) static void socket_register(void) {
  weft__kind_register(WEFT_KIND_SOCKET, &socket_ops);
}

/* Issue a handle for a descriptor weft owns; on failure fd is closed.
 * nonblock: fd is O_NONBLOCK already. */
static weft_status socket_issue(int fd, int family, int type, int proto,
                                double timeout, int nonblock,
                                weft_handle *out, const char *what) {
  sockobj *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return weft__errno(ENOMEM, what);
  }
  s->fd = fd;
  s->family = family;
  s->type = type;
  s->proto = proto;
  atomic_init(&s->timeout, timeout);
  atomic_init(&s->owns_fd, 1);
  atomic_init(&s->connect_pending, 0);
  atomic_init(&s->nonblock, nonblock);
  weft__fdq_init(&s->q);
  weft__pollable_init(&s->pollable);
  weft_status st = weft__handle_new(WEFT_KIND_SOCKET, s, out);
  if (st < 0) {
    s->owns_fd = 0;
    socket_destroy(s);
    close(fd);
  }
  return st;
}

static sockobj *pin(weft_handle h, const char *what) {
  return weft__handle_pin(h, WEFT_KIND_SOCKET, what);
}

/* accept(2) and connect(2) have no per-call MSG_DONTWAIT: they need the
 * descriptor in O_NONBLOCK mode, which a socket from fromfd gets on its
 * first accept or connect. */
static weft_status ensure_nonblock(sockobj *s, const char *what) {
  if (atomic_load_explicit(&s->nonblock, memory_order_relaxed))
    return 0;
  int fl = fcntl(s->fd, F_GETFL);
  if (fl < 0 || fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return weft__errno(errno, what);
  atomic_store(&s->nonblock, 1);
  return 0;
}

void weft__socket_fd_timeout(void *obj, int *fd, double *timeout) {
  sockobj *s = obj;
  *fd = s->fd;
  *timeout = atomic_load_explicit(&s->timeout, memory_order_relaxed);
}

void weft__socket_pollable(void *obj, weft__pollable **p, int *fd) {
  sockobj *s = obj;
  *p = &s->pollable;
  *fd = s->fd;
}

/* ---- modes and waits ---- */

/* One call's timeout (MSG_DONTWAIT in flags makes it 0) and deadline
 * (none is needed in non-blocking mode, which never waits). */
static double call_mode(sockobj *s, int flags, weft__deadline *d) {
  double t = atomic_load_explicit(&s->timeout, memory_order_relaxed);
  if (flags & MSG_DONTWAIT)
    t = 0;
  if (t == 0)
    *d = (weft__deadline){{0, 0}, 0};
  else
    weft__deadline_init(d, t, "socket"); /* t is never NaN */
  return t;
}

/* A failed weft__fdq_wait (r < 0), recorded. */
static weft_status wait_failure(int r, weft_handle h, const char *what,
                                const char *addr) {
  const char *sp = addr[0] ? " " : "";
  if (r == -ETIMEDOUT)
    return weft__error(-ETIMEDOUT, ETIMEDOUT, "%s%s%s: timed out", what, sp,
                       addr);
  if (r == -EINTR)
    return weft__interrupted(what);
  if (r == WEFT_ECLOSED)
    return weft__error(WEFT_ECLOSED, 0, "%s: socket %lld was closed", what,
                       (long long)h);
  return weft__errno(-r, what);
}

/* The call found the socket not ready for `events`: wait as the mode
 * says.  0: try again; otherwise a recorded failure. */
static weft_status sock_wait(sockobj *s, weft_handle h, short events,
                             double timeout, const weft__deadline *d,
                             const char *what) {
  weft__pollable_rearm(&s->pollable);
  if (timeout == 0) /* an event loop's every other call: no printf */
    return weft__error_text(-EAGAIN, EAGAIN, what, strerrordesc_np(EAGAIN));
  int r = weft__fdq_wait(&s->q, s->fd, events, d);
  return r >= 0 ? 0 : wait_failure(r, h, what, "");
}

/* An OS error of a call about an address: "<what> <addr>: <text>". */
static weft_status addr_errno(int err, const char *what, const void *addr,
                              size_t addr_len) {
  char text[TEXT_MAX];
  weft__sockaddr_text(addr, addr_len, text, sizeof text);
  return weft__error(-err, err, "%s %s: %s", what, text,
                     strerrordesc_np(err) ? strerrordesc_np(err) : "error");
}

static weft_status size_check(const void *buf, size_t len, const char *what) {
  if (len > (size_t)SSIZE_MAX)
    return weft__error(WEFT_EVALUE, 0,
                       "%s: size %zu is negative or too big", what, len);
  if (buf == NULL && len > 0)
    return weft__error(WEFT_EVALUE, 0, "%s: buf is NULL", what);
  return 0;
}

/* ---- creation ---- */

#define TYPE_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)

WEFT_API weft_status weft_socket_new(int family, int type, int proto,
                                     weft_handle *out) {
  WEFT__CHECK_PTR(out, "socket_new");
  int fd = socket(family, (type & ~TYPE_FLAGS) | TYPE_FLAGS, proto);
  if (fd < 0)
    return weft__errno(errno, "socket_new");
  double t = type & SOCK_NONBLOCK ? 0 : atomic_load(&default_timeout);
  return socket_issue(fd, family, type & ~TYPE_FLAGS, proto, t, 1, out,
                      "socket_new");
}

WEFT_API weft_status weft_socket_pair_new(int family, int type, int proto,
                                          weft_handle *first,
                                          weft_handle *second) {
  WEFT__CHECK_PTR(first, "socket_pair_new");
  WEFT__CHECK_PTR(second, "socket_pair_new");
  int fds[2];
  if (socketpair(family, (type & ~TYPE_FLAGS) | TYPE_FLAGS, proto, fds) < 0)
    return weft__errno(errno, "socket_pair_new");
  double t = type & SOCK_NONBLOCK ? 0 : atomic_load(&default_timeout);
  type &= ~TYPE_FLAGS;
  weft_handle a;
  weft_status st = socket_issue(fds[0], family, type, proto, t, 1, &a,
                                "socket_pair_new");
  if (st < 0) {
    close(fds[1]);
    return st;
  }
  st = socket_issue(fds[1], family, type, proto, t, 1, second,
                    "socket_pair_new");
  if (st < 0) {
    weft_close(a);
    return st;
  }
  *first = a;
  return 0;
}

static int sockopt_int(int fd, int name, int *v) {
  socklen_t len = sizeof *v;
  return getsockopt(fd, SOL_SOCKET, name, v, &len);
}

WEFT_API weft_status weft_socket_fromfd_new(int fd, int family, int type,
                                            int proto, weft_handle *out) {
  WEFT__CHECK_PTR(out, "socket_fromfd_new");
  int real_type;
  if (sockopt_int(fd, SO_TYPE, &real_type) < 0)
    return weft__errno(errno, "socket_fromfd_new");
  /* The duplicate shares the caller's file status flags: they are left
   * alone until an accept or a connect needs O_NONBLOCK (recv and send
   * pass MSG_DONTWAIT), so a socket handed over stays what its owner
   * expects. */
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0)
    return weft__errno(errno, "socket_fromfd_new");
  int fl = fcntl(dup_fd, F_GETFL);
  if (type == -1)
    type = real_type;
  if (family == -1 && sockopt_int(dup_fd, SO_DOMAIN, &family) < 0)
    family = AF_UNSPEC;
  if (proto == -1 && sockopt_int(dup_fd, SO_PROTOCOL, &proto) < 0)
    proto = 0;
  return socket_issue(dup_fd, family, type & ~TYPE_FLAGS, proto,
                      atomic_load(&default_timeout),
                      fl >= 0 && (fl & O_NONBLOCK), out,
                      "socket_fromfd_new");
}

WEFT_API weft_status weft_socket_detach(weft_handle sock, int *fd) {
  WEFT__CHECK_PTR(fd, "socket_detach");
  sockobj *s = pin(sock, "socket_detach");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  int owned = atomic_exchange(&s->owns_fd, 0);
  int d = s->fd;
  weft__handle_unpin(sock);
  if (!owned)
    return weft__error(WEFT_ESTATE, 0,
                       "socket_detach: socket %lld is being detached "
                       "already",
                       (long long)sock);
  /* A close that raced with us has closed the handle already; either
   * way the descriptor is no longer the socket's. */
  weft_close(sock);
  *fd = d;
  return 0;
}

/* ---- plain getters and setters ---- */

/* The five steps of a getter that reads one int field. */
#define SOCKET_GETTER(fn, field)                                            \
  WEFT_API weft_status weft_socket_##fn(weft_handle sock, int *field) {     \
    WEFT__CHECK_PTR(field, "socket_" #fn);                                  \
    sockobj *s = pin(sock, "socket_" #fn);                                  \
    if (s == NULL)                                                          \
      return WEFT__PIN_FAILED;                                              \
    *field = s->field;                                                      \
    weft__handle_unpin(sock);                                               \
    return 0;                                                               \
  }
SOCKET_GETTER(fileno, fd)
SOCKET_GETTER(get_family, family)
SOCKET_GETTER(get_type, type)
SOCKET_GETTER(get_proto, proto)

static weft_status timeout_check(double timeout, const char *what) {
  if (isnan(timeout))
    return weft__error(WEFT_EVALUE, 0, "%s: timeout is NaN", what);
  return 0;
}

static weft_status set_timeout(weft_handle sock, double timeout,
                               const char *what) {
  weft_status st = timeout_check(timeout, what);
  if (st < 0)
    return st;
  sockobj *s = pin(sock, what);
  if (s == NULL)
    return WEFT__PIN_FAILED;
  atomic_store(&s->timeout, timeout < 0 ? -1.0 : timeout);
  weft__handle_unpin(sock);
  return 0;
}

static weft_status get_timeout(weft_handle sock, double *timeout,
                               const char *what) {
  WEFT__CHECK_PTR(timeout, what);
  sockobj *s = pin(sock, what);
  if (s == NULL)
    return WEFT__PIN_FAILED;
  *timeout = atomic_load(&s->timeout);
  weft__handle_unpin(sock);
  return 0;
}

WEFT_API weft_status weft_socket_set_timeout(weft_handle sock,
                                             double timeout) {
  return set_timeout(sock, timeout, "socket_set_timeout");
}

WEFT_API weft_status weft_socket_get_timeout(weft_handle sock,
                                             double *timeout) {
  return get_timeout(sock, timeout, "socket_get_timeout");
}

WEFT_API weft_status weft_socket_set_blocking(weft_handle sock,
                                              int blocking) {
  return set_timeout(sock, blocking ? -1.0 : 0.0, "socket_set_blocking");
}

WEFT_API weft_status weft_socket_get_blocking(weft_handle sock,
                                              int *blocking) {
  WEFT__CHECK_PTR(blocking, "socket_get_blocking");
  double t;
  weft_status st = get_timeout(sock, &t, "socket_get_blocking");
  if (st == 0)
    *blocking = t != 0;
  return st;
}

WEFT_API weft_status weft_socket_get_default_timeout(double *timeout) {
  WEFT__CHECK_PTR(timeout, "socket_get_default_timeout");
  *timeout = atomic_load(&default_timeout);
  return 0;
}

WEFT_API weft_status weft_socket_set_default_timeout(double timeout) {
  weft_status st = timeout_check(timeout, "socket_set_default_timeout");
  if (st == 0)
    atomic_store(&default_timeout, timeout < 0 ? -1.0 : timeout);
  return st;
}

/* ---- bind, listen, names, shutdown ---- */

WEFT_API weft_status weft_socket_bind(weft_handle sock, const void *addr,
                                      size_t addr_len) {
  weft_status st = weft__sockaddr_check(addr, addr_len, "socket_bind");
  if (st < 0)
    return st;
  sockobj *s = pin(sock, "socket_bind");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  if (bind(s->fd, addr, (socklen_t)addr_len) < 0)
    st = addr_errno(errno, "socket_bind", addr, addr_len);
  weft__handle_unpin(sock);
  return st;
}

WEFT_API weft_status weft_socket_listen(weft_handle sock, int backlog) {
  sockobj *s = pin(sock, "socket_listen");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  if (listen(s->fd, backlog < 0 ? 0 : backlog) < 0)
    st = weft__errno(errno, "socket_listen");
  weft__handle_unpin(sock);
  return st;
}

typedef int (*name_fn)(int, struct sockaddr *, socklen_t *);

static weft_status get_name(weft_handle sock, name_fn fn, void *addr,
                            size_t addr_cap, size_t *addr_len,
                            const char *what) {
  weft_status st = weft__sockaddr_out_check(addr, addr_cap, addr_len, what);
  if (st < 0)
    return st;
  sockobj *s = pin(sock, what);
  if (s == NULL)
    return WEFT__PIN_FAILED;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (fn(s->fd, (struct sockaddr *)&ss, &len) < 0)
    st = weft__errno(errno, what);
  else
    weft__sockaddr_out(&ss, len, addr, addr_cap, addr_len);
  weft__handle_unpin(sock);
  return st;
}

WEFT_API weft_status weft_socket_getsockname(weft_handle sock, void *addr,
                                             size_t addr_cap,
                                             size_t *addr_len) {
  return get_name(sock, getsockname, addr, addr_cap, addr_len,
                  "socket_getsockname");
}

WEFT_API weft_status weft_socket_getpeername(weft_handle sock, void *addr,
                                             size_t addr_cap,
                                             size_t *addr_len) {
  return get_name(sock, getpeername, addr, addr_cap, addr_len,
                  "socket_getpeername");
}

WEFT_API weft_status weft_socket_shutdown(weft_handle sock, int how) {
  sockobj *s = pin(sock, "socket_shutdown");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  if (shutdown(s->fd, how) < 0)
    st = weft__errno(errno, "socket_shutdown");
  weft__handle_unpin(sock);
  return st;
}

/* ---- options ---- */

WEFT_API weft_status weft_socket_getsockopt(weft_handle sock, int level,
                                            int name, int *value) {
  WEFT__CHECK_PTR(value, "socket_getsockopt");
  sockobj *s = pin(sock, "socket_getsockopt");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(s->fd, level, name, &v, &len) < 0)
    st = weft__errno(errno, "socket_getsockopt");
  else
    *value = v;
  weft__handle_unpin(sock);
  return st;
}

WEFT_API weft_status weft_socket_getsockopt_bytes(weft_handle sock,
                                                  int level, int name,
                                                  void *buf, size_t cap,
                                                  size_t *n) {
  WEFT__CHECK_PTR(n, "socket_getsockopt_bytes");
  WEFT__CHECK_PTR(buf, "socket_getsockopt_bytes");
  if (cap < 1 || cap > 1024)
    return weft__error(WEFT_EVALUE, 0,
                       "socket_getsockopt_bytes: buflen must be 1..1024, "
                       "not %zu",
                       cap);
  sockobj *s = pin(sock, "socket_getsockopt_bytes");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  socklen_t len = (socklen_t)cap;
  if (getsockopt(s->fd, level, name, buf, &len) < 0)
    st = weft__errno(errno, "socket_getsockopt_bytes");
  else
    *n = len;
  weft__handle_unpin(sock);
  return st;
}

static weft_status set_opt(weft_handle sock, int level, int name,
                           const void *buf, size_t len, const char *what) {
  sockobj *s = pin(sock, what);
  if (s == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  if (setsockopt(s->fd, level, name, buf, (socklen_t)len) < 0)
    st = weft__errno(errno, what);
  weft__handle_unpin(sock);
  return st;
}

WEFT_API weft_status weft_socket_setsockopt(weft_handle sock, int level,
                                            int name, int value) {
  return set_opt(sock, level, name, &value, sizeof value,
                 "socket_setsockopt");
}

/* buf NULL passes NULL with len (Python's setsockopt(level, opt, None,
 * optlen)); the kernel checks it. */
WEFT_API weft_status weft_socket_setsockopt_bytes(weft_handle sock,
                                                  int level, int name,
                                                  const void *buf,
                                                  size_t len) {
  if (len > INT_MAX)
    return weft__error(WEFT_EVALUE, 0,
                       "socket_setsockopt_bytes: size %zu is negative or "
                       "too big",
                       len);
  return set_opt(sock, level, name, buf, len, "socket_setsockopt_bytes");
}

/* ---- connect ---- */

/* Connect; the outcome of the connection itself goes to *conn_err (an
 * errno value, 0 when connected; ETIMEDOUT when the mode's timeout ran
 * out) with status 0.  Everything else (an interrupt, a close) is the
 * status, recorded. */
static weft_status do_connect(sockobj *s, weft_handle h, const void *addr,
                              size_t addr_len, int *conn_err,
                              const char *what) {
  weft__deadline d;
  double timeout = call_mode(s, 0, &d);
  char text[TEXT_MAX];
  weft__sockaddr_text(addr, addr_len, text, sizeof text);
  *conn_err = 0;
  weft_status st = ensure_nonblock(s, what);
  if (st < 0)
    return st;
  if (!atomic_exchange(&s->connect_pending, 0)) {
    for (;;) {
      if (connect(s->fd, addr, (socklen_t)addr_len) == 0)
        return 0;
      int e = errno;
      if (e == EINTR || e == EINPROGRESS)
        break;
      if (e != EAGAIN || s->family != AF_UNIX || timeout == 0) {
        *conn_err = e;
        return 0;
      }
      /* AF_UNIX with a full backlog: a blocking connect would wait for
       * room, which no descriptor shows.  Nap 1 ms at a time (a wait on
       * no descriptor, which an interrupt or a close still ends) and try
       * again, keeping to the deadline. */
      if (weft__deadline_expired(&d)) {
        *conn_err = ETIMEDOUT;
        return 0;
      }
      weft__deadline nap;
      weft__deadline_init(&nap, 0.001, what);
      int r = weft__fdq_wait(&s->q, -1, 0, &nap);
      if (r < 0 && r != -ETIMEDOUT)
        return wait_failure(r, h, what, text);
    }
    if (timeout == 0) {
      *conn_err = EINPROGRESS;
      return 0;
    }
  }
  /* Under way: wait for it to finish, then ask how it went. */
  for (;;) {
    int r = weft__fdq_wait(&s->q, s->fd, POLLOUT, &d);
    if (r == -ETIMEDOUT) {
      *conn_err = ETIMEDOUT;
      return 0;
    }
    if (r == -EINTR)
      atomic_store(&s->connect_pending, 1); /* the next connect waits */
    if (r < 0)
      return wait_failure(r, h, what, text);
    if (r == 0)
      continue;
    int e = 0;
    if (sockopt_int(s->fd, SO_ERROR, &e) < 0)
      e = errno;
    *conn_err = e;
    return 0;
  }
}

WEFT_API weft_status weft_socket_connect(weft_handle sock, const void *addr,
                                         size_t addr_len) {
  weft_status st = weft__sockaddr_check(addr, addr_len, "socket_connect");
  if (st < 0)
    return st;
  sockobj *s = pin(sock, "socket_connect");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  int e;
  st = do_connect(s, sock, addr, addr_len, &e, "socket_connect");
  if (st == 0 && e != 0) {
    char text[TEXT_MAX];
    weft__sockaddr_text(addr, addr_len, text, sizeof text);
    st = weft__error(-e, e, "socket_connect %s: %s", text,
                     e == ETIMEDOUT ? "timed out" : strerrordesc_np(e));
  }
  weft__handle_unpin(sock);
  return st;
}

WEFT_API weft_status weft_socket_connect_ex(weft_handle sock,
                                            const void *addr,
                                            size_t addr_len, int *err) {
  WEFT__CHECK_PTR(err, "socket_connect_ex");
  weft_status st = weft__sockaddr_check(addr, addr_len, "socket_connect_ex");
  if (st < 0)
    return st;
  sockobj *s = pin(sock, "socket_connect_ex");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  int e;
  st = do_connect(s, sock, addr, addr_len, &e, "socket_connect_ex");
  if (st == 0)
    *err = e == ETIMEDOUT ? EWOULDBLOCK : e; /* CPython's connect_ex */
  weft__handle_unpin(sock);
  return st;
}

/* ---- accept ---- */

WEFT_API weft_status weft_socket_accept(weft_handle sock, void *addr,
                                        size_t addr_cap, size_t *addr_len,
                                        weft_handle *out) {
  WEFT__CHECK_PTR(out, "socket_accept");
  weft_status st =
      weft__sockaddr_out_check(addr, addr_cap, addr_len, "socket_accept");
  if (st < 0)
    return st;
  sockobj *s = pin(sock, "socket_accept");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  weft__deadline d;
  double timeout = call_mode(s, 0, &d);
  st = ensure_nonblock(s, "socket_accept");
  for (; st == 0;) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(s->fd, (struct sockaddr *)&ss, &len,
                     SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      st = socket_issue(fd, s->family, s->type, s->proto,
                        atomic_load(&default_timeout), 1, out,
                        "socket_accept");
      if (st == 0)
        weft__sockaddr_out(&ss, len, addr, addr_cap, addr_len);
      break;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      st = weft__errno(errno, "socket_accept");
      break;
    }
    st = sock_wait(s, sock, POLLIN, timeout, &d, "socket_accept");
    if (st < 0)
      break;
  }
  weft__handle_unpin(sock);
  return st;
}

/* ---- send ---- */

/* One send or sendto (to may be NULL), waiting as the mode says. */
static weft_status do_send(sockobj *s, weft_handle h, const char *buf,
                           size_t len, int flags, const void *to,
                           size_t to_len, size_t *sent, const char *what) {
  weft__deadline d;
  double timeout = call_mode(s, flags, &d);
  int sys_flags = flags | MSG_NOSIGNAL | MSG_DONTWAIT;
  for (;;) {
    ssize_t r = to != NULL ? sendto(s->fd, buf, len, sys_flags, to,
                                    (socklen_t)to_len)
                           : send(s->fd, buf, len, sys_flags);
    if (r >= 0) {
      *sent = (size_t)r;
      return 0;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return to != NULL ? addr_errno(errno, what, to, to_len)
                        : weft__errno(errno, what);
    weft_status st = sock_wait(s, h, POLLOUT, timeout, &d, what);
    if (st < 0)
      return st;
  }
}

WEFT_API weft_status weft_socket_send(weft_handle sock, const void *buf,
                                      size_t len, int flags, size_t *sent) {
  WEFT__CHECK_PTR(sent, "socket_send");
  *sent = 0; /* what every failure has sent, however early */
  weft_status st = size_check(buf, len, "socket_send");
  if (st < 0)
    return st;
  sockobj *s = pin(sock, "socket_send");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  st = do_send(s, sock, buf, len, flags, NULL, 0, sent, "socket_send");
  weft__handle_unpin(sock);
  return st;
}

WEFT_API weft_status weft_socket_sendto(weft_handle sock, const void *buf,
                                        size_t len, int flags,
                                        const void *addr, size_t addr_len,
                                        size_t *sent) {
  WEFT__CHECK_PTR(sent, "socket_sendto");
  *sent = 0; /* what every failure has sent, however early */
  weft_status st = size_check(buf, len, "socket_sendto");
  if (st == 0)
    st = weft__sockaddr_check(addr, addr_len, "socket_sendto");
  if (st < 0)
    return st;
  sockobj *s = pin(sock, "socket_sendto");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  st = do_send(s, sock, buf, len, flags, addr, addr_len, sent,
               "socket_sendto");
  weft__handle_unpin(sock);
  return st;
}

WEFT_API weft_status weft_socket_sendall(weft_handle sock, const void *buf,
                                         size_t len, int flags,
                                         size_t *sent) {
  WEFT__CHECK_PTR(sent, "socket_sendall");
  *sent = 0; /* what every failure has sent, however early */
  weft_status st = size_check(buf, len, "socket_sendall");
  if (st < 0)
    return st;
  sockobj *s = pin(sock, "socket_sendall");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  weft__deadline d; /* one deadline for the whole call */
  double timeout = call_mode(s, flags, &d);
  int sys_flags = flags | MSG_NOSIGNAL | MSG_DONTWAIT;
  const char *p = buf;
  size_t done = 0;
  do { /* at least one send: sendall(b"") sends an empty datagram */
    ssize_t r = send(s->fd, p + done, len - done, sys_flags);
    if (r >= 0) {
      done += (size_t)r;
      continue;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      st = weft__errno(errno, "socket_sendall");
      break;
    }
    st = sock_wait(s, sock, POLLOUT, timeout, &d, "socket_sendall");
  } while (st == 0 && done < len);
  *sent = done;
  weft__handle_unpin(sock);
  return st;
}

/* ---- recv ---- */

/* recv or recvfrom (from may be NULL), waiting as the mode says.
 * MSG_WAITALL is ours to keep: the system call runs non-blocking, which
 * would make it return what is there. */
static weft_status do_recv(sockobj *s, weft_handle h, int flags, char *buf,
                           size_t cap, size_t *n,
                           struct sockaddr_storage *from, socklen_t *from_len,
                           const char *what) {
  weft__deadline d;
  double timeout = call_mode(s, flags, &d);
  int waitall = (flags & MSG_WAITALL) && timeout != 0;
  int sys_flags = (flags & ~MSG_WAITALL) | MSG_DONTWAIT;
  size_t got = 0;
  weft_status st = 0;
  for (;;) {
    ssize_t r;
    if (from != NULL) {
      *from_len = sizeof *from;
      r = recvfrom(s->fd, buf + got, cap - got, sys_flags,
                   (struct sockaddr *)from, from_len);
    } else {
      r = recv(s->fd, buf + got, cap - got, sys_flags);
    }
    if (r >= 0) {
      got += (size_t)r;
      if (!waitall || r == 0 || got == cap)
        break;
      continue;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      st = weft__errno(errno, what);
      break;
    }
    st = sock_wait(s, h, POLLIN, timeout, &d, what);
    if (st < 0)
      break;
  }
  if (st < 0 && got > 0) { /* MSG_WAITALL: what came is returned */
    if (st == -EINTR)
      weft__intr_keep(); /* and the next call is interrupted */
    st = 0;
  }
  if (st == 0)
    *n = got;
  return st;
}

WEFT_API weft_status weft_socket_recv(weft_handle sock, int flags,
                                      void *buf, size_t cap, size_t *n) {
  WEFT__CHECK_PTR(n, "socket_recv");
  *n = 0;
  weft_status st = size_check(buf, cap, "socket_recv");
  if (st < 0)
    return st;
  sockobj *s = pin(sock, "socket_recv");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  st = do_recv(s, sock, flags, buf, cap, n, NULL, NULL, "socket_recv");
  weft__handle_unpin(sock);
  return st;
}

WEFT_API weft_status weft_socket_recvfrom(weft_handle sock, int flags,
                                          void *buf, size_t cap, size_t *n,
                                          void *addr, size_t addr_cap,
                                          size_t *addr_len) {
  WEFT__CHECK_PTR(n, "socket_recvfrom");
  *n = 0;
  weft_status st = size_check(buf, cap, "socket_recvfrom");
  if (st == 0)
    st = weft__sockaddr_out_check(addr, addr_cap, addr_len,
                                  "socket_recvfrom");
  if (st < 0)
    return st;
  sockobj *s = pin(sock, "socket_recvfrom");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  struct sockaddr_storage ss;
  socklen_t len = 0;
  memset(&ss, 0, sizeof ss);
  st = do_recv(s, sock, flags, buf, cap, n, &ss, &len, "socket_recvfrom");
  if (st == 0)
    weft__sockaddr_out(&ss, len, addr, addr_cap, addr_len);
  weft__handle_unpin(sock);
  return st;
}

/* ---- create_connection ---- */

/* Bind fd to the first address of `family` that (host, port) resolves
 * to: 0, or an errno value with the reason in why. */
static int bind_source(int fd, int family, const char *host,
                       const char *port, char *why, size_t why_cap) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  int r = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
  if (r != 0) {
    snprintf(why, why_cap, "source %s: %s", host, gai_strerror(r));
    return EADDRNOTAVAIL;
  }
  int err = 0;
  if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
    char text[TEXT_MAX];
    err = errno;
    weft__sockaddr_text(res->ai_addr, res->ai_addrlen, text, sizeof text);
    snprintf(why, why_cap, "bind %s: %s", text, strerrordesc_np(err));
  }
  freeaddrinfo(res);
  return err;
}

/* One try of create_connection: 0 with *out connected, an errno value
 * with the reason in why, or (*fatal) an interrupt that ends them all. */
static int try_connect(const struct addrinfo *ai, double timeout,
                       const char *source_host, const char *source_port,
                       weft_handle *out, weft_status *fatal, char *why,
                       size_t why_cap) {
  const char *what = "socket_create_connection";
  char text[TEXT_MAX];
  weft__sockaddr_text(ai->ai_addr, ai->ai_addrlen, text, sizeof text);
  weft_handle h;
  if (weft_socket_new(ai->ai_family, ai->ai_socktype, ai->ai_protocol, &h) <
      0) {
    snprintf(why, why_cap, "%s: %s", text, weft_last_error_message());
    return -weft_last_error_code();
  }
  sockobj *s = pin(h, what);
  if (s == NULL) { /* closed by a stranger meanwhile */
    snprintf(why, why_cap, "%s: %s", text, weft_last_error_message());
    return EBADF;
  }
  atomic_store(&s->timeout, timeout < 0 ? -1.0 : timeout);
  int e = 0;
  if (source_host != NULL)
    e = bind_source(s->fd, ai->ai_family, source_host, source_port, why,
                    why_cap);
  if (e == 0) {
    *fatal = do_connect(s, h, ai->ai_addr, ai->ai_addrlen, &e, what);
    if (e != 0)
      snprintf(why, why_cap, "%s: %s", text,
               e == ETIMEDOUT ? "timed out" : strerrordesc_np(e));
  }
  weft__handle_unpin(h);
  if (*fatal == 0 && e == 0) {
    *out = h;
    return 0;
  }
  weft_close(h);
  return e;
}

WEFT_API weft_status weft_socket_create_connection(const char *host,
                                                   const char *port,
                                                   double timeout,
                                                   const char *source_host,
                                                   const char *source_port,
                                                   weft_handle *out) {
  const char *what = "socket_create_connection";
  WEFT__CHECK_PTR(out, what);
  WEFT__CHECK_PTR(host, what);
  weft_status st = timeout_check(timeout, what);
  if (st == 0 && port != NULL)
    st = weft__port_check(port, what);
  if (st == 0 && source_port != NULL)
    st = weft__port_check(source_port, what);
  if (st < 0)
    return st;
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  int r = getaddrinfo(host, port, &hints, &res);
  if (r != 0)
    return weft__gai_error(r, what, host);
  char tries[512] = ""; /* every try, for the message */
  size_t used = 0;
  int last = ECONNREFUSED;
  weft_status fatal = 0;
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    char why[TEXT_MAX + 96] = "";
    int e = try_connect(ai, timeout, source_host, source_port, out, &fatal,
                        why, sizeof why);
    if (e == 0 && fatal == 0) {
      freeaddrinfo(res);
      return 0;
    }
    if (fatal < 0)
      break;
    last = e > 0 ? e : EIO;
    if (why[0] != '\0' && used + 3 < sizeof tries)
      used += (size_t)snprintf(tries + used, sizeof tries - used, "%s%s",
                               used ? "; " : "", why);
  }
  int one_try = res->ai_next == NULL;
  freeaddrinfo(res);
  if (fatal < 0)
    return weft__interrupted(what);
  if (one_try) /* "<what> 127.0.0.1:9: Connection refused" */
    return weft__error(-last, last, "%s %s", what, tries);
  return weft__error(-last, last, "%s %s:%s: %s", what, host,
                     port ? port : "0", tries);
}
