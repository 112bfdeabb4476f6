/* rbsocket.c - the socket, select and io calls of Weft::Native that SWIG
 * does not generate (bindings/weft.i lists them as ignored):
 *
 *   - bytes: a String in is read as it is, through a frozen copy that
 *     shares its buffer, so that no other Ruby thread can change or free
 *     the bytes while a call runs without the GVL; bytes out are written
 *     straight into a new binary String (rb_str_buf_new, then
 *     rb_str_set_len), never copied.  Addresses are binary Strings of the
 *     platform's struct sockaddr, as Ruby's own Socket.sockaddr_in and
 *     Addrinfo#to_sockaddr make them.
 *   - waits: every call that may block runs through weft_rb_call, without
 *     the GVL and interruptible (Thread#kill, Thread#raise, Ctrl-C,
 *     Timeout.timeout); after an interrupt that did not raise, the call is
 *     made again from where it was (sendall and stream writes resume after
 *     what went; weft keeps what a stream read, and a connect's attempt).
 *   - names: the resolver calls (getaddrinfo, names, services) run without
 *     the GVL too, but weft cannot interrupt them: Ruby's interrupts run
 *     when they return.
 *   - "it would block" (-EAGAIN, -EINPROGRESS) is IO::EAGAINWaitReadable,
 *     IO::EAGAINWaitWritable or IO::EINPROGRESSWaitWritable, as Ruby's
 *     read_nonblock and connect_nonblock raise.
 *
 * Names and argument orders follow abi/weft.h without its out-parameters,
 * except where a Ruby-side convenience is noted.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>

#include <ruby.h>
#include <ruby/encoding.h>

#include "rbweft.h"

#define READ WEFT_RB_IO_READ
#define WRITE WEFT_RB_IO_WRITE

uint32_t weft_rb_u32(VALUE v) {
  long long n = NUM2LL(v);
  if (n < 0 || n > (long long)UINT32_MAX)
    rb_raise(rb_eRangeError, "%lld is out of range for a 32-bit mask", n);
  return (uint32_t)n;
}

/* ---------------------------------------------------------------- bytes */

/* Bytes in: str's bytes, whatever its encoding.  The frozen copy shares a
 * long String's buffer (no copy) and keeps the bytes alive and unchanged
 * while the call runs without the GVL: the caller keeps it on its stack
 * (RB_GC_GUARD) until the call has returned. */
static VALUE bytes_in(VALUE str, const char **ptr, size_t *len) {
  StringValue(str);
  VALUE keep = rb_str_new_frozen(str);
  *ptr = RSTRING_PTR(keep);
  *len = (size_t)RSTRING_LEN(keep);
  return keep;
}

/* A size from Ruby: an Integer >= 0 (RangeError otherwise, as for every
 * size of Weft::Native). */
static size_t size_arg(VALUE v) {
  size_t n = weft_rb_size(v);
  if (n > (size_t)LONG_MAX - 1)
    rb_raise(rb_eArgError, "size %zu is too big", n);
  return n;
}

/* A new binary String with room for cap bytes, which a call writes in
 * place. */
static VALUE bytes_buf(size_t cap) { return rb_str_buf_new((long)cap); }

/* The call wrote n bytes: the String's length.  A buffer far bigger than
 * what came (recv(65536) of a short message) is given back. */
static VALUE bytes_done(VALUE str, size_t n) {
  size_t cap = rb_str_capacity(str);
  rb_str_set_len(str, (long)n);
  if (cap - n >= 4096)
    rb_str_resize(str, (long)n);
  return str;
}

static VALUE addr_str(const char *addr, size_t len) {
  return rb_str_new(addr, (long)len);
}

/* ---------------------------------------------------------------- text */

/* A text result in (buf, cap, len), by the string rule: a buffer on the
 * stack first, a String of the reported size on WEFT_ERANGE. */
struct text {
  weft_status (*fn)(struct text *t);
  weft_handle h;
  const char *s1, *s2;
  const char *p;
  size_t plen;
  int i;
  char *buf;
  size_t cap, len;
};

static weft_status text_call(void *p) {
  struct text *t = p;
  return t->fn(t);
}

/* resolve: without the GVL (the call may wait for DNS). */
static VALUE text_result(struct text *t, int resolve) {
  char small[256];
  VALUE s = Qnil;
  t->buf = small;
  t->cap = sizeof small;
  t->len = 0;
  for (;;) {
    weft_status st =
        resolve ? weft_rb_call(text_call, t, WEFT_RB_UNINTERRUPTIBLE, 0)
                : text_call(t);
    if (st == 0)
      break;
    if (st != WEFT_ERANGE)
      weft_rb_raise(st);
    s = rb_str_buf_new((long)t->len);
    t->buf = RSTRING_PTR(s);
    t->cap = t->len + 1;
  }
  if (NIL_P(s))
    return rb_utf8_str_new(small, (long)t->len);
  rb_str_set_len(s, (long)t->len);
  rb_enc_associate(s, rb_utf8_encoding());
  return s;
}

/* ------------------------------------------------------------ addresses */

struct make {
  int family, port;
  const char *host;
  size_t host_len;
  uint32_t flowinfo, scope_id;
  char addr[WEFT_SOCKADDR_MAX];
  size_t addr_len;
};

static weft_status make_call(void *p) {
  struct make *m = p;
  return weft_sockaddr_make(m->family, m->host, m->host_len, m->port,
                            m->flowinfo, m->scope_id, m->addr,
                            sizeof m->addr, &m->addr_len);
}

/* Native.sockaddr_make(family, host, port, flowinfo, scope_id) -> packed
 * address.  host is a String of bytes (a path for AF_UNIX); a host name
 * is resolved without the GVL. */
static VALUE m_sockaddr_make(VALUE self, VALUE family, VALUE host,
                             VALUE port, VALUE flowinfo, VALUE scope_id) {
  struct make m;
  m.family = NUM2INT(family);
  m.port = NUM2INT(port);
  m.flowinfo = weft_rb_u32(flowinfo);
  m.scope_id = weft_rb_u32(scope_id);
  VALUE keep = bytes_in(host, &m.host, &m.host_len);
  weft_status st = weft_rb_call(make_call, &m, WEFT_RB_UNINTERRUPTIBLE, 0);
  RB_GC_GUARD(keep);
  if (st < 0)
    weft_rb_raise(st);
  return addr_str(m.addr, m.addr_len);
}

/* Native.sockaddr_parse(addr) -> [family, host, port, flowinfo,
 * scope_id]: host is text for AF_INET and AF_INET6, the path's bytes (a
 * binary String) for AF_UNIX. */
static VALUE m_sockaddr_parse(VALUE self, VALUE addr) {
  const char *a;
  size_t alen;
  VALUE keep = bytes_in(addr, &a, &alen);
  char small[256];
  char *host = small;
  size_t cap = sizeof small, len = 0;
  int family = 0, port = 0;
  uint32_t flowinfo = 0, scope_id = 0;
  VALUE big = Qnil;
  weft_status st;
  while ((st = weft_sockaddr_parse(a, alen, &family, host, cap, &len, &port,
                                   &flowinfo, &scope_id)) == WEFT_ERANGE) {
    big = rb_str_buf_new((long)len);
    host = RSTRING_PTR(big);
    cap = len + 1;
  }
  RB_GC_GUARD(keep);
  if (st < 0)
    weft_rb_raise(st);
  VALUE h = rb_str_new(host, (long)len);
  RB_GC_GUARD(big);
  if (family != AF_UNIX)
    rb_enc_associate(h, rb_usascii_encoding());
  return rb_ary_new_from_args(5, INT2NUM(family), h, INT2NUM(port),
                              UINT2NUM(flowinfo), UINT2NUM(scope_id));
}

/* -------------------------------------------------------------- sockets */

/* One socket call without the GVL, and its progress. */
struct sock_op {
  weft_handle h;
  int flags;
  const char *in; /* bytes to send */
  size_t in_len;
  const char *to; /* an address to connect or send to */
  size_t to_len;
  char *out; /* bytes received */
  size_t cap;
  size_t n; /* sent or received so far */
  char addr[WEFT_SOCKADDR_MAX];
  size_t addr_len;
  weft_handle accepted;
  int err;
};

static weft_status op_recv(void *p) {
  struct sock_op *o = p;
  return weft_socket_recv(o->h, o->flags, o->out, o->cap, &o->n);
}

static weft_status op_recvfrom(void *p) {
  struct sock_op *o = p;
  return weft_socket_recvfrom(o->h, o->flags, o->out, o->cap, &o->n,
                              o->addr, sizeof o->addr, &o->addr_len);
}

/* cap bytes, or to the end of the stream.  A MSG_WAITALL receive that an
 * interrupt (or the timeout) cut short returns what came: Ruby looks at
 * its interrupts (-EINTR), and the next call goes on after those bytes. */
static weft_status op_read(void *p) {
  struct sock_op *o = p;
  size_t got = 0;
  weft_status st = weft_socket_recv(o->h, o->flags | MSG_WAITALL,
                                    o->out + o->n, o->cap - o->n, &got);
  o->n += got;
  if (st == 0 && got > 0 && o->n < o->cap)
    return -EINTR;
  return st;
}

static weft_status op_send(void *p) {
  struct sock_op *o = p;
  return weft_socket_send(o->h, o->in, o->in_len, o->flags, &o->n);
}

/* Resumes after what went: weft says exactly how much that was. */
static weft_status op_sendall(void *p) {
  struct sock_op *o = p;
  size_t sent = 0;
  weft_status st = weft_socket_sendall(o->h, o->in + o->n, o->in_len - o->n,
                                       o->flags, &sent);
  o->n += sent;
  return st;
}

static weft_status op_sendto(void *p) {
  struct sock_op *o = p;
  return weft_socket_sendto(o->h, o->in, o->in_len, o->flags, o->to,
                            o->to_len, &o->n);
}

static weft_status op_accept(void *p) {
  struct sock_op *o = p;
  return weft_socket_accept(o->h, o->addr, sizeof o->addr, &o->addr_len,
                            &o->accepted);
}

/* A retry after -EINTR waits for the attempt the first call started. */
static weft_status op_connect(void *p) {
  struct sock_op *o = p;
  return weft_socket_connect(o->h, o->to, o->to_len);
}

static weft_status op_connect_ex(void *p) {
  struct sock_op *o = p;
  return weft_socket_connect_ex(o->h, o->to, o->to_len, &o->err);
}

/* MSG_DONTWAIT never waits: the call keeps the GVL, as Ruby's own
 * *_nonblock calls do. */
static weft_status sock_call(weft_rb_call_fn fn, struct sock_op *o) {
  if (o->flags & MSG_DONTWAIT)
    return fn(o);
  return weft_rb_call(fn, o, 0, o->h);
}

/* A call's last, optional argument: what to return instead of raising
 * IO::EAGAINWait* when it would block (read_nonblock's exception: false,
 * without making an exception). */
static VALUE would_block_arg(int argc, VALUE *argv, int n, VALUE *args) {
  rb_check_arity(argc, n, n + 1);
  memcpy(args, argv, (size_t)n * sizeof *args);
  return argc > n ? argv[n] : Qnil;
}

static int would_block(weft_status st, VALUE instead) {
  return !NIL_P(instead) && (st == -EAGAIN || st == -EWOULDBLOCK);
}

/* Native.socket_recv(sock, flags, maxlen[, would_block]) -> String
 * (binary; "" at the end of the stream) */
static VALUE m_socket_recv(int argc, VALUE *argv, VALUE self) {
  VALUE a[3], instead = would_block_arg(argc, argv, 3, a);
  struct sock_op o = {.h = weft_rb_handle(a[0]), .flags = NUM2INT(a[1])};
  o.cap = size_arg(a[2]);
  VALUE str = bytes_buf(o.cap);
  o.out = RSTRING_PTR(str);
  weft_status st = sock_call(op_recv, &o);
  if (would_block(st, instead))
    return instead;
  if (st < 0)
    weft_rb_raise_io(st, READ);
  return bytes_done(str, o.n);
}

/* Native.socket_recvfrom(sock, flags, maxlen[, would_block]) -> [String,
 * address] */
static VALUE m_socket_recvfrom(int argc, VALUE *argv, VALUE self) {
  VALUE a[3], instead = would_block_arg(argc, argv, 3, a);
  struct sock_op o = {.h = weft_rb_handle(a[0]), .flags = NUM2INT(a[1])};
  o.cap = size_arg(a[2]);
  VALUE str = bytes_buf(o.cap);
  o.out = RSTRING_PTR(str);
  weft_status st = sock_call(op_recvfrom, &o);
  if (would_block(st, instead))
    return instead;
  if (st < 0)
    weft_rb_raise_io(st, READ);
  return rb_assoc_new(bytes_done(str, o.n), addr_str(o.addr, o.addr_len));
}

/* Native.socket_read(sock, flags, length) -> String: length bytes, fewer
 * only at the end of the stream or when a timeout or an error came after
 * some bytes (those are returned; the next call raises).  Not in weft.h:
 * IO#read(length) for an unbuffered socket. */
static VALUE m_socket_read(VALUE self, VALUE sock, VALUE flags, VALUE len) {
  struct sock_op o = {.h = weft_rb_handle(sock), .flags = NUM2INT(flags)};
  o.cap = size_arg(len);
  VALUE str = bytes_buf(o.cap);
  o.out = RSTRING_PTR(str);
  weft_status st = o.cap > 0 ? sock_call(op_read, &o) : 0;
  if (st < 0 && o.n == 0)
    weft_rb_raise_io(st, READ);
  return bytes_done(str, o.n);
}

/* Native.socket_send(sock, data, flags[, would_block]) -> bytes sent */
static VALUE m_socket_send(int argc, VALUE *argv, VALUE self) {
  VALUE a[3], instead = would_block_arg(argc, argv, 3, a);
  struct sock_op o = {.h = weft_rb_handle(a[0]), .flags = NUM2INT(a[2])};
  VALUE keep = bytes_in(a[1], &o.in, &o.in_len);
  weft_status st = sock_call(op_send, &o);
  RB_GC_GUARD(keep);
  if (would_block(st, instead))
    return instead;
  if (st < 0)
    weft_rb_raise_io(st, WRITE);
  return SIZET2NUM(o.n);
}

/* Native.socket_sendall(sock, data, flags) -> bytes sent (all of them).
 * On failure the exception's #bytes_sent says how many went. */
static VALUE m_socket_sendall(VALUE self, VALUE sock, VALUE data,
                              VALUE flags) {
  struct sock_op o = {.h = weft_rb_handle(sock), .flags = NUM2INT(flags)};
  VALUE keep = bytes_in(data, &o.in, &o.in_len);
  weft_status st = sock_call(op_sendall, &o);
  RB_GC_GUARD(keep);
  if (st < 0) {
    VALUE exc = weft_rb_error(st, WRITE);
    rb_ivar_set(exc, rb_intern("@bytes_sent"), SIZET2NUM(o.n));
    rb_exc_raise(exc);
  }
  return SIZET2NUM(o.n);
}

/* Native.socket_sendto(sock, data, flags, address) -> bytes sent */
static VALUE m_socket_sendto(VALUE self, VALUE sock, VALUE data, VALUE flags,
                             VALUE addr) {
  struct sock_op o = {.h = weft_rb_handle(sock), .flags = NUM2INT(flags)};
  VALUE keep = bytes_in(data, &o.in, &o.in_len);
  VALUE keep_to = bytes_in(addr, &o.to, &o.to_len);
  weft_status st = sock_call(op_sendto, &o);
  RB_GC_GUARD(keep);
  RB_GC_GUARD(keep_to);
  if (st < 0)
    weft_rb_raise_io(st, WRITE);
  return SIZET2NUM(o.n);
}

/* Native.socket_accept(sock) -> [new socket handle, peer address] */
static VALUE m_socket_accept(VALUE self, VALUE sock) {
  struct sock_op o = {.h = weft_rb_handle(sock)};
  weft_status st = sock_call(op_accept, &o);
  if (st < 0)
    weft_rb_raise_io(st, READ);
  return rb_assoc_new(LL2NUM(o.accepted), addr_str(o.addr, o.addr_len));
}

/* Native.socket_connect(sock, address) -> nil */
static VALUE m_socket_connect(VALUE self, VALUE sock, VALUE addr) {
  struct sock_op o = {.h = weft_rb_handle(sock)};
  VALUE keep = bytes_in(addr, &o.to, &o.to_len);
  weft_status st = sock_call(op_connect, &o);
  RB_GC_GUARD(keep);
  if (st < 0)
    weft_rb_raise_io(st, WRITE);
  return Qnil;
}

/* Native.socket_connect_ex(sock, address) -> errno value (0: connected) */
static VALUE m_socket_connect_ex(VALUE self, VALUE sock, VALUE addr) {
  struct sock_op o = {.h = weft_rb_handle(sock)};
  VALUE keep = bytes_in(addr, &o.to, &o.to_len);
  weft_status st = sock_call(op_connect_ex, &o);
  RB_GC_GUARD(keep);
  if (st < 0)
    weft_rb_raise(st);
  return INT2NUM(o.err);
}

/* Native.socket_bind(sock, address) -> nil */
static VALUE m_socket_bind(VALUE self, VALUE sock, VALUE addr) {
  const char *a;
  size_t len;
  weft_handle h = weft_rb_handle(sock);
  VALUE keep = bytes_in(addr, &a, &len);
  weft_status st = weft_socket_bind(h, a, len);
  RB_GC_GUARD(keep);
  if (st < 0)
    weft_rb_raise(st);
  return Qnil;
}

typedef weft_status (*name_fn)(weft_handle, void *, size_t, size_t *);

static VALUE sock_name(VALUE sock, name_fn fn) {
  char addr[WEFT_SOCKADDR_MAX];
  size_t len = 0;
  weft_status st = fn(weft_rb_handle(sock), addr, sizeof addr, &len);
  if (st < 0)
    weft_rb_raise(st);
  return addr_str(addr, len);
}

/* Native.socket_getsockname(sock), socket_getpeername(sock) -> address */
static VALUE m_socket_getsockname(VALUE self, VALUE sock) {
  return sock_name(sock, weft_socket_getsockname);
}

static VALUE m_socket_getpeername(VALUE self, VALUE sock) {
  return sock_name(sock, weft_socket_getpeername);
}

/* Native.socket_getsockopt_bytes(sock, level, name, buflen) -> String */
static VALUE m_socket_getsockopt_bytes(VALUE self, VALUE sock, VALUE level,
                                       VALUE name, VALUE cap) {
  weft_handle h = weft_rb_handle(sock);
  int lv = NUM2INT(level), nm = NUM2INT(name);
  size_t c = size_arg(cap), n = 0;
  /* weft refuses a buflen above 1024 before it writes anything. */
  VALUE str = bytes_buf(c <= 1024 ? c : 0);
  weft_status st =
      weft_socket_getsockopt_bytes(h, lv, nm, RSTRING_PTR(str), c, &n);
  if (st < 0)
    weft_rb_raise(st);
  return bytes_done(str, n);
}

/* Native.socket_setsockopt_bytes(sock, level, name, String) -> nil */
static VALUE m_socket_setsockopt_bytes(VALUE self, VALUE sock, VALUE level,
                                       VALUE name, VALUE value) {
  weft_handle h = weft_rb_handle(sock);
  int lv = NUM2INT(level), nm = NUM2INT(name);
  const char *p;
  size_t len;
  VALUE keep = bytes_in(value, &p, &len);
  weft_status st = weft_socket_setsockopt_bytes(h, lv, nm, p, len);
  RB_GC_GUARD(keep);
  if (st < 0)
    weft_rb_raise(st);
  return Qnil;
}

struct connection {
  const char *host, *port, *source_host, *source_port;
  double timeout;
  weft_handle out;
};

/* A retry after an interrupt starts over: weft closed its attempt. */
static weft_status op_create_connection(void *p) {
  struct connection *c = p;
  return weft_socket_create_connection(c->host, c->port, c->timeout,
                                       c->source_host, c->source_port,
                                       &c->out);
}

/* A C string argument, nil for NULL.  The caller keeps *v alive
 * (RB_GC_GUARD) while the string is used. */
static const char *cstr_or_null(VALUE *v) {
  return NIL_P(*v) ? NULL : StringValueCStr(*v);
}

/* Native.socket_create_connection(host, port, timeout, source_host,
 * source_port) -> socket handle.  port and source_port: Strings (numbers
 * or service names) or nil. */
static VALUE m_socket_create_connection(VALUE self, VALUE host, VALUE port,
                                        VALUE timeout, VALUE source_host,
                                        VALUE source_port) {
  struct connection c;
  c.timeout = weft_rb_double(timeout);
  VALUE v[4] = {host, port, source_host, source_port};
  c.host = StringValueCStr(v[0]);
  c.port = cstr_or_null(&v[1]);
  c.source_host = cstr_or_null(&v[2]);
  c.source_port = cstr_or_null(&v[3]);
  c.out = 0;
  weft_status st = weft_rb_call(op_create_connection, &c, 0, 0);
  RB_GC_GUARD(v[0]);
  RB_GC_GUARD(v[1]);
  RB_GC_GUARD(v[2]);
  RB_GC_GUARD(v[3]);
  if (st < 0)
    weft_rb_raise_io(st, WRITE);
  return LL2NUM(c.out);
}

/* ------------------------------------------------------------- resolver */

struct gai {
  const char *host, *port;
  int family, type, proto, flags;
  weft_handle ai;
};

static weft_status op_addrinfo_new(void *p) {
  struct gai *g = p;
  return weft_addrinfo_new(g->host, g->port, g->family, g->type, g->proto,
                           g->flags, &g->ai);
}

static weft_status canonname_fn(struct text *t) {
  return weft_addrinfo_canonname(t->h, (size_t)t->i, t->buf, t->cap,
                                 &t->len);
}

struct gai_read {
  weft_handle ai;
  VALUE list;
};

static VALUE gai_read(VALUE arg) {
  struct gai_read *r = (struct gai_read *)arg;
  size_t count = 0;
  weft_status st = weft_addrinfo_count(r->ai, &count);
  if (st < 0)
    weft_rb_raise(st);
  for (size_t i = 0; i < count; i++) {
    int family = 0, type = 0, proto = 0;
    char addr[WEFT_SOCKADDR_MAX];
    size_t len = 0;
    st = weft_addrinfo_get(r->ai, i, &family, &type, &proto, addr,
                           sizeof addr, &len);
    if (st < 0)
      weft_rb_raise(st);
    struct text t = {.fn = canonname_fn};
    t.h = r->ai;
    t.i = (int)i;
    VALUE canon = text_result(&t, 0);
    rb_ary_push(r->list, rb_ary_new_from_args(5, INT2NUM(family),
                                              INT2NUM(type), INT2NUM(proto),
                                              canon, addr_str(addr, len)));
  }
  return r->list;
}

static VALUE gai_close(VALUE arg) {
  weft_close(((struct gai_read *)arg)->ai);
  return Qnil;
}

/* Native.getaddrinfo(host, port, family, type, proto, flags) ->
 * [[family, type, proto, canonname, address], ...].  host and port:
 * Strings or nil (not both).  weft_addrinfo_* in one call, the handle
 * closed before it returns. */
static VALUE m_getaddrinfo(VALUE self, VALUE host, VALUE port, VALUE family,
                           VALUE type, VALUE proto, VALUE flags) {
  struct gai g;
  VALUE v[2] = {host, port};
  g.family = NUM2INT(family);
  g.type = NUM2INT(type);
  g.proto = NUM2INT(proto);
  g.flags = NUM2INT(flags);
  g.host = cstr_or_null(&v[0]);
  g.port = cstr_or_null(&v[1]);
  g.ai = 0;
  weft_status st =
      weft_rb_call(op_addrinfo_new, &g, WEFT_RB_UNINTERRUPTIBLE, 0);
  RB_GC_GUARD(v[0]);
  RB_GC_GUARD(v[1]);
  if (st < 0)
    weft_rb_raise(st);
  struct gai_read r = {g.ai, rb_ary_new()};
  return rb_ensure(gai_read, (VALUE)&r, gai_close, (VALUE)&r);
}

struct nameinfo {
  const char *addr;
  size_t addr_len;
  int flags;
  char host[1025], serv[32]; /* NI_MAXHOST, NI_MAXSERV: always enough */
  size_t host_len, serv_len;
};

static weft_status op_getnameinfo(void *p) {
  struct nameinfo *n = p;
  return weft_socket_getnameinfo(n->addr, n->addr_len, n->flags, n->host,
                                 sizeof n->host, &n->host_len, n->serv,
                                 sizeof n->serv, &n->serv_len);
}

/* Native.socket_getnameinfo(address, flags) -> [host, service] */
static VALUE m_socket_getnameinfo(VALUE self, VALUE addr, VALUE flags) {
  struct nameinfo n;
  n.flags = NUM2INT(flags);
  VALUE keep = bytes_in(addr, &n.addr, &n.addr_len);
  weft_status st =
      weft_rb_call(op_getnameinfo, &n, WEFT_RB_UNINTERRUPTIBLE, 0);
  RB_GC_GUARD(keep);
  if (st < 0)
    weft_rb_raise(st);
  return rb_assoc_new(rb_utf8_str_new(n.host, (long)n.host_len),
                      rb_utf8_str_new(n.serv, (long)n.serv_len));
}

static weft_status gethostbyname_fn(struct text *t) {
  return weft_socket_gethostbyname(t->s1, t->buf, t->cap, &t->len);
}
static weft_status gethostbyname_ex_fn(struct text *t) {
  return weft_socket_gethostbyname_ex(t->s1, t->buf, t->cap, &t->len);
}
static weft_status gethostbyaddr_fn(struct text *t) {
  return weft_socket_gethostbyaddr(t->s1, t->buf, t->cap, &t->len);
}
static weft_status gethostname_fn(struct text *t) {
  return weft_socket_gethostname(t->buf, t->cap, &t->len);
}
static weft_status getfqdn_fn(struct text *t) {
  return weft_socket_getfqdn(t->s1, t->buf, t->cap, &t->len);
}
static weft_status getservbyport_fn(struct text *t) {
  return weft_socket_getservbyport(t->i, t->s2, t->buf, t->cap, &t->len);
}

/* A resolver call that returns text, on (name or nil). */
static VALUE resolve_text(weft_status (*fn)(struct text *), VALUE name,
                          int nil_ok) {
  struct text t = {.fn = fn};
  VALUE v = name;
  t.s1 = nil_ok ? cstr_or_null(&v) : StringValueCStr(v);
  VALUE r = text_result(&t, 1);
  RB_GC_GUARD(v);
  return r;
}

/* Native.socket_gethostbyname(name) -> "127.0.0.1" */
static VALUE m_socket_gethostbyname(VALUE self, VALUE name) {
  return resolve_text(gethostbyname_fn, name, 0);
}

/* Native.socket_gethostbyname_ex(name) -> "hostname\naliases\naddresses" */
static VALUE m_socket_gethostbyname_ex(VALUE self, VALUE name) {
  return resolve_text(gethostbyname_ex_fn, name, 0);
}

/* Native.socket_gethostbyaddr(address) -> the same three lines */
static VALUE m_socket_gethostbyaddr(VALUE self, VALUE address) {
  return resolve_text(gethostbyaddr_fn, address, 0);
}

/* Native.socket_gethostname -> String */
static VALUE m_socket_gethostname(VALUE self) {
  struct text t = {.fn = gethostname_fn};
  return text_result(&t, 0);
}

/* Native.socket_getfqdn(name or nil) -> String */
static VALUE m_socket_getfqdn(VALUE self, VALUE name) {
  return resolve_text(getfqdn_fn, name, 1);
}

/* Native.socket_getservbyport(port, proto or nil) -> service name */
static VALUE m_socket_getservbyport(VALUE self, VALUE port, VALUE proto) {
  struct text t = {.fn = getservbyport_fn};
  VALUE v = proto;
  t.i = NUM2INT(port);
  t.s2 = cstr_or_null(&v);
  VALUE r = text_result(&t, 1);
  RB_GC_GUARD(v);
  return r;
}

struct serv {
  const char *name, *proto;
  int out;
};

static weft_status op_getservbyname(void *p) {
  struct serv *s = p;
  return weft_socket_getservbyname(s->name, s->proto, &s->out);
}

static weft_status op_getprotobyname(void *p) {
  struct serv *s = p;
  return weft_socket_getprotobyname(s->name, &s->out);
}

/* Native.socket_getservbyname(name, proto or nil) -> port */
static VALUE m_socket_getservbyname(VALUE self, VALUE name, VALUE proto) {
  VALUE v[2] = {name, proto};
  struct serv s = {StringValueCStr(v[0]), cstr_or_null(&v[1]), 0};
  weft_status st =
      weft_rb_call(op_getservbyname, &s, WEFT_RB_UNINTERRUPTIBLE, 0);
  RB_GC_GUARD(v[0]);
  RB_GC_GUARD(v[1]);
  if (st < 0)
    weft_rb_raise(st);
  return INT2NUM(s.out);
}

/* Native.socket_getprotobyname(name) -> protocol number */
static VALUE m_socket_getprotobyname(VALUE self, VALUE name) {
  VALUE v = name;
  struct serv s = {StringValueCStr(v), NULL, 0};
  weft_status st =
      weft_rb_call(op_getprotobyname, &s, WEFT_RB_UNINTERRUPTIBLE, 0);
  RB_GC_GUARD(v);
  if (st < 0)
    weft_rb_raise(st);
  return INT2NUM(s.out);
}

/* ---------------------------------------------- inet_* (no resolving) */

/* Native.socket_inet_aton(text) -> 4 bytes */
static VALUE m_socket_inet_aton(VALUE self, VALUE text) {
  char buf[16];
  size_t n = 0;
  weft_status st = weft_socket_inet_aton(StringValueCStr(text), buf,
                                         sizeof buf, &n);
  if (st < 0)
    weft_rb_raise(st);
  return rb_str_new(buf, (long)n);
}

/* Native.socket_inet_pton(family, text) -> 4 or 16 bytes */
static VALUE m_socket_inet_pton(VALUE self, VALUE family, VALUE text) {
  char buf[16];
  size_t n = 0;
  int f = NUM2INT(family);
  weft_status st =
      weft_socket_inet_pton(f, StringValueCStr(text), buf, sizeof buf, &n);
  if (st < 0)
    weft_rb_raise(st);
  return rb_str_new(buf, (long)n);
}

static weft_status inet_ntoa_fn(struct text *t) {
  return weft_socket_inet_ntoa(t->p, t->plen, t->buf, t->cap, &t->len);
}
static weft_status inet_ntop_fn(struct text *t) {
  return weft_socket_inet_ntop(t->i, t->p, t->plen, t->buf, t->cap,
                               &t->len);
}

/* Native.socket_inet_ntoa(packed) -> text */
static VALUE m_socket_inet_ntoa(VALUE self, VALUE packed) {
  struct text t = {.fn = inet_ntoa_fn};
  VALUE keep = bytes_in(packed, &t.p, &t.plen);
  VALUE r = text_result(&t, 0);
  RB_GC_GUARD(keep);
  return r;
}

/* Native.socket_inet_ntop(family, packed) -> text */
static VALUE m_socket_inet_ntop(VALUE self, VALUE family, VALUE packed) {
  struct text t = {.fn = inet_ntop_fn};
  t.i = NUM2INT(family);
  VALUE keep = bytes_in(packed, &t.p, &t.plen);
  VALUE r = text_result(&t, 0);
  RB_GC_GUARD(keep);
  return r;
}

/* --------------------------------------------------------------- select */

struct select_op {
  weft_handle *lists[3];
  size_t counts[3], ready[3];
  double timeout, deadline;
  int again; /* a retry: the timeout is what is left */
};

static double time_left(double timeout, double deadline, int *again) {
  if (*again && timeout > 0) {
    timeout = deadline - weft_monotonic();
    if (timeout < 0)
      timeout = 0;
  }
  *again = 1;
  return timeout;
}

static weft_status op_select(void *p) {
  struct select_op *s = p;
  double t = time_left(s->timeout, s->deadline, &s->again);
  return weft_select_wait(s->lists[0], s->counts[0], s->lists[1],
                          s->counts[1], s->lists[2], s->counts[2], t,
                          &s->ready[0], &s->ready[1], &s->ready[2]);
}

/* Native.select_wait(readers, writers, exceptional, timeout) -> [ready
 * readers, ready writers, ready exceptional] (Arrays of handles), or nil
 * when the timeout ran out. */
static VALUE m_select_wait(VALUE self, VALUE r, VALUE w, VALUE x,
                           VALUE timeout) {
  VALUE ary[3] = {r, w, x};
  struct select_op s;
  memset(&s, 0, sizeof s);
  s.timeout = weft_rb_double(timeout);
  /* Every to_ary first: one may change another list.  Nothing below runs
   * Ruby code, so the lengths hold while the handles are read. */
  for (int l = 0; l < 3; l++)
    ary[l] = rb_convert_type(ary[l], T_ARRAY, "Array", "to_ary");
  size_t total = 0;
  for (int l = 0; l < 3; l++) {
    s.counts[l] = (size_t)RARRAY_LEN(ary[l]);
    total += s.counts[l];
  }
  VALUE tmp;
  weft_handle *all = ALLOCV_N(weft_handle, tmp, total ? total : 1);
  size_t k = 0;
  for (int l = 0; l < 3; l++) {
    s.lists[l] = s.counts[l] ? all + k : NULL;
    for (size_t i = 0; i < s.counts[l]; i++)
      all[k++] = weft_rb_handle(RARRAY_AREF(ary[l], (long)i));
  }
  if (s.timeout > 0)
    s.deadline = weft_monotonic() + s.timeout;
  weft_status st = weft_rb_call(op_select, &s, 0, 0);
  VALUE result = Qnil;
  if (st == 0) {
    result = rb_ary_new_capa(3);
    for (int l = 0; l < 3; l++) {
      VALUE ready = rb_ary_new_capa((long)s.ready[l]);
      for (size_t i = 0; i < s.ready[l]; i++)
        rb_ary_push(ready, LL2NUM(s.lists[l][i]));
      rb_ary_push(result, ready);
    }
  }
  ALLOCV_END(tmp);
  if (st < 0 && st != -ETIMEDOUT)
    weft_rb_raise(st);
  return result;
}

struct poll_op {
  weft_handle poller;
  double timeout, deadline;
  int again;
  int64_t *keys;
  uint32_t *events;
  size_t cap, n;
};

static weft_status op_poll(void *p) {
  struct poll_op *o = p;
  double t = time_left(o->timeout, o->deadline, &o->again);
  return weft_poller_poll(o->poller, t, o->keys, o->events, o->cap, &o->n);
}

/* Native.poller_poll(poller, timeout, max) -> [[key, events], ...] ([]
 * when the timeout ran out) */
static VALUE m_poller_poll(VALUE self, VALUE poller, VALUE timeout,
                           VALUE max) {
  struct poll_op o;
  memset(&o, 0, sizeof o);
  o.poller = weft_rb_handle(poller);
  o.timeout = weft_rb_double(timeout);
  o.cap = size_arg(max);
  if (o.cap > 65536)
    o.cap = 65536; /* more are reported by the next call */
  VALUE tk, te;
  o.keys = ALLOCV_N(int64_t, tk, o.cap ? o.cap : 1);
  o.events = ALLOCV_N(uint32_t, te, o.cap ? o.cap : 1);
  if (o.timeout > 0)
    o.deadline = weft_monotonic() + o.timeout;
  weft_status st = weft_rb_call(op_poll, &o, 0, 0);
  VALUE result = rb_ary_new_capa((long)o.n);
  for (size_t i = 0; st == 0 && i < o.n; i++)
    rb_ary_push(result,
                rb_assoc_new(LL2NUM(o.keys[i]), UINT2NUM(o.events[i])));
  ALLOCV_END(tk);
  ALLOCV_END(te);
  if (st < 0 && st != -ETIMEDOUT)
    weft_rb_raise(st);
  return result;
}

/* -------------------------------------------------------------- streams */

struct stream_op {
  weft_handle h;
  int64_t limit;
  const char *in;
  size_t in_len, n;
  char *out;
  size_t cap;
  int flush;
  weft_status (*read)(weft_handle, void *, size_t, size_t *);
};

static weft_status op_stream_read(void *p) {
  struct stream_op *o = p;
  return o->read(o->h, o->out, o->cap, &o->n);
}

static weft_status op_stream_readline(void *p) {
  struct stream_op *o = p;
  return weft_stream_readline(o->h, o->limit, o->out, o->cap, &o->n);
}

/* Resumes after what the stream took; then the flush, if asked. */
static weft_status op_stream_write(void *p) {
  struct stream_op *o = p;
  if (o->n < o->in_len || o->in_len == 0) {
    size_t took = 0;
    weft_status st =
        weft_stream_write(o->h, o->in + o->n, o->in_len - o->n, &took);
    o->n += took;
    if (st < 0)
      return st;
  }
  return o->flush ? weft_stream_flush(o->h) : 0;
}

static weft_status op_stream_flush(void *p) {
  struct stream_op *o = p;
  return weft_stream_flush(o->h);
}

/* weft_close, once: its flush waits interruptibly, and an interrupt
 * ends it (the handle is closed whatever the flush does, losing what it
 * held).  So there is nothing to call again: a retry (after an interrupt
 * that did not raise) reports CLOSE_CUT. */
#define CLOSE_CUT 1
struct close_op {
  weft_handle h;
  int began;
};

static weft_status op_close(void *p) {
  struct close_op *c = p;
  if (c->began)
    return CLOSE_CUT;
  c->began = 1;
  return weft_close(c->h);
}

static VALUE close_body(VALUE p) {
  return INT2NUM(weft_rb_call(op_close, (void *)p, 0, 0));
}

/* An interrupt that came before the close began (Ruby then skips the
 * call and raises): close without waiting for the flush. */
static VALUE close_ensure(VALUE p) {
  struct close_op *c = (struct close_op *)p;
  if (!c->began) {
    c->began = 1;
    weft_stream_set_timeout(c->h, 0);
    weft_close(c->h);
  }
  return Qnil;
}

static weft_status stream_call(weft_rb_call_fn fn, struct stream_op *o) {
  return weft_rb_call(fn, o, WEFT_RB_STREAM_TIMED, o->h);
}

static VALUE stream_read(VALUE stream, VALUE cap,
                         weft_status (*read)(weft_handle, void *, size_t,
                                             size_t *)) {
  struct stream_op o = {.h = weft_rb_handle(stream)};
  o.read = read;
  o.cap = size_arg(cap);
  VALUE str = bytes_buf(o.cap);
  o.out = RSTRING_PTR(str);
  weft_status st = stream_call(op_stream_read, &o);
  if (st < 0)
    weft_rb_raise_io(st, READ);
  return bytes_done(str, o.n);
}

/* Native.stream_read(stream, n) -> String: n bytes, fewer only at the
 * end ("" there). */
static VALUE m_stream_read(VALUE self, VALUE stream, VALUE cap) {
  return stream_read(stream, cap, weft_stream_read);
}

/* Native.stream_read1(stream, n) -> String: at most one read(2). */
static VALUE m_stream_read1(VALUE self, VALUE stream, VALUE cap) {
  return stream_read(stream, cap, weft_stream_read1);
}

/* A read by the string rule: WEFT_ERANGE keeps the data in the stream
 * and says how much room it needs; the String grows to that. */
static VALUE stream_read_all(struct stream_op *o, weft_rb_call_fn fn,
                             size_t first) {
  o->cap = first;
  VALUE str = bytes_buf(o->cap);
  for (;;) {
    o->out = RSTRING_PTR(str);
    weft_status st = stream_call(fn, o);
    if (st == 0)
      return bytes_done(str, o->n);
    if (st != WEFT_ERANGE)
      weft_rb_raise_io(st, READ);
    o->cap = o->n;
    rb_str_modify_expand(str, (long)o->cap); /* its length is 0 */
  }
}

/* Native.stream_readall(stream) -> String: to the end of the stream */
static VALUE m_stream_readall(VALUE self, VALUE stream) {
  struct stream_op o = {.h = weft_rb_handle(stream)};
  o.read = weft_stream_readall;
  return stream_read_all(&o, op_stream_read, 8192);
}

/* Native.stream_readline(stream, limit) -> String: through the next
 * "\n", at most limit bytes (< 0: no limit), "" at the end */
static VALUE m_stream_readline(VALUE self, VALUE stream, VALUE limit) {
  struct stream_op o = {.h = weft_rb_handle(stream)};
  o.limit = NUM2LL(limit);
  size_t first = o.limit >= 0 && o.limit < 256 ? (size_t)o.limit : 256;
  return stream_read_all(&o, op_stream_readline, first);
}

/* Native.stream_write(stream, data, flush) -> bytes taken (all of them);
 * flush true writes the buffer out too, in the same call (Ruby's sync
 * mode).  Not weft.h's shape: the flush is the binding's. */
static VALUE m_stream_write(VALUE self, VALUE stream, VALUE data,
                            VALUE flush) {
  struct stream_op o = {.h = weft_rb_handle(stream)};
  o.flush = RTEST(flush);
  VALUE keep = bytes_in(data, &o.in, &o.in_len);
  weft_status st = stream_call(op_stream_write, &o);
  RB_GC_GUARD(keep);
  if (st < 0)
    weft_rb_raise_io(st, WRITE);
  return SIZET2NUM(o.n);
}

/* Native.stream_flush(stream) -> nil */
static VALUE m_stream_flush(VALUE self, VALUE stream) {
  struct stream_op o = {.h = weft_rb_handle(stream)};
  weft_status st = stream_call(op_stream_flush, &o);
  if (st < 0)
    weft_rb_raise_io(st, WRITE);
  return Qnil;
}

/* Native.stream_close(stream) -> nil: weft_close, whose flush may wait
 * (by the stream's timeout) without the GVL, interruptibly, as every
 * wait: Thread#kill, Timeout.timeout and Ctrl-C end it, and the handle
 * is closed in every case.  An interrupt that does not raise (a trap
 * handler) leaves the flush cut short: Errno::EINTR.  Stream#close
 * flushes first (a flush resumes after an interrupt), so only what a
 * concurrent write added can be lost so. */
static VALUE m_stream_close(VALUE self, VALUE stream) {
  struct close_op c = {weft_rb_handle(stream), 0};
  weft_status st =
      NUM2INT(rb_ensure(close_body, (VALUE)&c, close_ensure, (VALUE)&c));
  if (st == CLOSE_CUT)
    st = -EINTR;
  if (st < 0)
    weft_rb_raise_io(st, WRITE);
  return Qnil;
}

/* ----------------------------------------------------------------- init */

void weft_rb_init_socket(VALUE native) {
#define DEF(name, argc) \
  rb_define_module_function(native, #name, m_##name, argc)
  DEF(sockaddr_make, 5);
  DEF(sockaddr_parse, 1);
  DEF(socket_recv, -1);
  DEF(socket_recvfrom, -1);
  DEF(socket_read, 3);
  DEF(socket_send, -1);
  DEF(socket_sendall, 3);
  DEF(socket_sendto, 4);
  DEF(socket_accept, 1);
  DEF(socket_connect, 2);
  DEF(socket_connect_ex, 2);
  DEF(socket_bind, 2);
  DEF(socket_getsockname, 1);
  DEF(socket_getpeername, 1);
  DEF(socket_getsockopt_bytes, 4);
  DEF(socket_setsockopt_bytes, 4);
  DEF(socket_create_connection, 5);
  DEF(getaddrinfo, 6);
  DEF(socket_getnameinfo, 2);
  DEF(socket_gethostbyname, 1);
  DEF(socket_gethostbyname_ex, 1);
  DEF(socket_gethostbyaddr, 1);
  DEF(socket_gethostname, 0);
  DEF(socket_getfqdn, 1);
  DEF(socket_getservbyname, 2);
  DEF(socket_getservbyport, 2);
  DEF(socket_getprotobyname, 1);
  DEF(socket_inet_aton, 1);
  DEF(socket_inet_pton, 2);
  DEF(socket_inet_ntoa, 1);
  DEF(socket_inet_ntop, 2);
  DEF(select_wait, 4);
  DEF(poller_poll, 3);
  DEF(stream_read, 2);
  DEF(stream_read1, 2);
  DEF(stream_readall, 1);
  DEF(stream_readline, 2);
  DEF(stream_write, 3);
  DEF(stream_flush, 1);
  DEF(stream_close, 1);
#undef DEF
}
