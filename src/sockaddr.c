/* sockaddr.c - socket addresses as bytes: making and reading them, the
 * inet_* and byte-order helpers, and the checks the socket calls share. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "socket.h"

_Static_assert(sizeof(struct sockaddr_storage) == WEFT_SOCKADDR_MAX,
               "WEFT_SOCKADDR_MAX is struct sockaddr_storage's size");

/* ---- checks and formatting shared by the socket calls ---- */

static size_t family_min(int family) {
  switch (family) {
  case AF_INET:
    return sizeof(struct sockaddr_in);
  case AF_INET6:
    return sizeof(struct sockaddr_in6);
  case AF_UNIX:
    return offsetof(struct sockaddr_un, sun_path);
  default:
    return sizeof(sa_family_t);
  }
}

weft_status weft__sockaddr_check(const void *addr, size_t addr_len,
                                 const char *what) {
  if (addr == NULL)
    return weft__error(WEFT_EVALUE, 0, "%s: addr is NULL", what);
  if (addr_len < sizeof(sa_family_t) || addr_len > WEFT_SOCKADDR_MAX)
    return weft__error(WEFT_EVALUE, 0,
                       "%s: an address is %zu..%d bytes, not %zu", what,
                       sizeof(sa_family_t), WEFT_SOCKADDR_MAX, addr_len);
  sa_family_t family;
  memcpy(&family, addr, sizeof family);
  if (addr_len < family_min(family))
    return weft__error(WEFT_EVALUE, 0,
                       "%s: an address of family %d needs %zu bytes, not "
                       "%zu",
                       what, family, family_min(family), addr_len);
  return 0;
}

weft_status weft__sockaddr_out_check(void *addr, size_t cap, size_t *len,
                                     const char *what) {
  WEFT__CHECK_PTR(len, what);
  if (addr == NULL && cap == 0)
    return 0;
  if (addr == NULL || cap < WEFT_SOCKADDR_MAX) {
    *len = WEFT_SOCKADDR_MAX;
    return weft__error(WEFT_ERANGE, 0,
                       "%s: an address buffer needs %d bytes "
                       "(WEFT_SOCKADDR_MAX), not %zu",
                       what, WEFT_SOCKADDR_MAX, addr == NULL ? 0 : cap);
  }
  return 0;
}

void weft__sockaddr_out(const struct sockaddr_storage *ss, socklen_t len,
                        void *addr, size_t cap, size_t *out_len) {
  if (addr == NULL) {
    *out_len = 0;
    return;
  }
  size_t n = (size_t)len < cap ? (size_t)len : cap;
  memcpy(addr, ss, n);
  *out_len = n;
}

void weft__sockaddr_text(const void *addr, size_t addr_len, char *buf,
                         size_t cap) {
  struct sockaddr_storage ss;
  char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  if (cap == 0)
    return;
  buf[0] = '\0';
  if (addr == NULL || addr_len < sizeof(sa_family_t))
    return;
  memset(&ss, 0, sizeof ss);
  memcpy(&ss, addr, addr_len < sizeof ss ? addr_len : sizeof ss);
  switch (ss.ss_family) {
  case AF_INET: {
    const struct sockaddr_in *in = (const void *)&ss;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    snprintf(buf, cap, "%s:%u", host, ntohs(in->sin_port));
    return;
  }
  case AF_INET6: {
    const struct sockaddr_in6 *in6 = (const void *)&ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    snprintf(buf, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
    return;
  }
  case AF_UNIX: {
    const struct sockaddr_un *un = (const void *)&ss;
    size_t n = addr_len > offsetof(struct sockaddr_un, sun_path)
                   ? addr_len - offsetof(struct sockaddr_un, sun_path)
                   : 0;
    if (n > sizeof un->sun_path)
      n = sizeof un->sun_path;
    if (n == 0) {
      snprintf(buf, cap, "<unnamed>");
      return;
    }
    /* An abstract name shows as "@name", its NULs as '@' too. */
    size_t i = 0, j = 0;
    int abstract = un->sun_path[0] == '\0';
    for (; i < n && j + 1 < cap; i++) {
      char c = un->sun_path[i];
      if (c == '\0' && !abstract)
        break;
      buf[j++] = c == '\0' ? '@' : (c < ' ' || c == 127 ? '?' : c);
    }
    buf[j] = '\0';
    return;
  }
  default:
    snprintf(buf, cap, "<family %d>", ss.ss_family);
  }
}

/* ---- making addresses ---- */

/* host as a C string into tmp (refusing embedded NULs). */
static weft_status host_cstr(const void *host, size_t host_len, char *tmp,
                             size_t cap) {
  if (host_len >= cap)
    return weft__error(WEFT_EVALUE, 0,
                       "sockaddr_make: host of %zu bytes is too long",
                       host_len);
  if (host_len > 0 && memchr(host, '\0', host_len) != NULL)
    return weft__error(WEFT_EVALUE, 0,
                       "sockaddr_make: host holds a NUL byte");
  if (host_len > 0)
    memcpy(tmp, host, host_len);
  tmp[host_len] = '\0';
  return 0;
}

/* The first address of `family` a host name resolves to, into ss. */
static weft_status resolve_first(int family, const char *name,
                                 struct sockaddr_storage *ss) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  int r = getaddrinfo(name, NULL, &hints, &res);
  if (r != 0)
    return weft__gai_error(r, "sockaddr_make", name);
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
    if (ai->ai_family == family && ai->ai_addrlen <= sizeof *ss) {
      memcpy(ss, ai->ai_addr, ai->ai_addrlen);
      freeaddrinfo(res);
      return 0;
    }
  freeaddrinfo(res);
  return weft__gai_error(EAI_ADDRFAMILY, "sockaddr_make", name);
}

static weft_status make_inet(const char *h, size_t hl, int port,
                             struct sockaddr_storage *ss, socklen_t *len) {
  struct sockaddr_in *in = (void *)ss;
  char name[NI_MAXHOST];
  weft_status st = host_cstr(h, hl, name, sizeof name);
  if (st < 0)
    return st;
  if (hl == 0) {
    in->sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (strcmp(name, "<broadcast>") == 0) {
    in->sin_addr.s_addr = htonl(INADDR_BROADCAST);
  } else if (inet_pton(AF_INET, name, &in->sin_addr) != 1) {
    st = resolve_first(AF_INET, name, ss);
    if (st < 0)
      return st;
  }
  in->sin_family = AF_INET;
  in->sin_port = htons((uint16_t)port);
  *len = sizeof *in;
  return 0;
}

static weft_status make_inet6(const char *h, size_t hl, int port,
                              uint32_t flowinfo, uint32_t scope_id,
                              struct sockaddr_storage *ss, socklen_t *len) {
  struct sockaddr_in6 *in6 = (void *)ss;
  char name[NI_MAXHOST];
  weft_status st = host_cstr(h, hl, name, sizeof name);
  if (st < 0)
    return st;
  if (hl == 0) {
    in6->sin6_addr = in6addr_any;
  } else if (inet_pton(AF_INET6, name, &in6->sin6_addr) != 1) {
    /* A name, or an address with a zone ("fe80::1%eth0"): getaddrinfo
     * reads both, and sets the zone's scope id. */
    st = resolve_first(AF_INET6, name, ss);
    if (st < 0)
      return st;
  }
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons((uint16_t)port);
  in6->sin6_flowinfo = htonl(flowinfo);
  if (scope_id != 0)
    in6->sin6_scope_id = scope_id;
  *len = sizeof *in6;
  return 0;
}

/* CPython's rule: an abstract name (first byte NUL) or the empty autobind
 * address fills sun_path exactly; a path needs room for its NUL too. */
static weft_status make_unix(const char *h, size_t hl,
                             struct sockaddr_storage *ss, socklen_t *len) {
  struct sockaddr_un *un = (void *)ss;
  int abstract = hl == 0 || h[0] == '\0';
  if (abstract ? hl > sizeof un->sun_path : hl >= sizeof un->sun_path)
    return weft__error(WEFT_EVALUE, 0,
                       "sockaddr_make: AF_UNIX path of %zu bytes is too "
                       "long (at most %zu)",
                       hl, sizeof un->sun_path - (abstract ? 0 : 1));
  un->sun_family = AF_UNIX;
  if (hl > 0)
    memcpy(un->sun_path, h, hl);
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + hl +
                     (abstract ? 0 : 1));
  return 0;
}

WEFT_API weft_status weft_sockaddr_make(int family, const void *host,
                                        size_t host_len, int port,
                                        uint32_t flowinfo, uint32_t scope_id,
                                        void *addr, size_t addr_cap,
                                        size_t *addr_len) {
  WEFT__CHECK_PTR(addr_len, "sockaddr_make");
  if (host == NULL && host_len != 0)
    return weft__error(WEFT_EVALUE, 0, "sockaddr_make: host is NULL");
  if (host_len > (size_t)SSIZE_MAX)
    return weft__error(WEFT_EVALUE, 0,
                       "sockaddr_make: host_len %zu is negative or too big",
                       host_len);
  if (addr == NULL || addr_cap < WEFT_SOCKADDR_MAX) {
    *addr_len = WEFT_SOCKADDR_MAX;
    return weft__error(WEFT_ERANGE, 0,
                       "sockaddr_make: an address buffer needs %d bytes "
                       "(WEFT_SOCKADDR_MAX), not %zu",
                       WEFT_SOCKADDR_MAX, addr == NULL ? 0 : addr_cap);
  }
  if (family == AF_INET || family == AF_INET6) {
    if (port < 0 || port > 65535)
      return weft__error(WEFT_EVALUE, 0,
                         "sockaddr_make: port must be 0-65535, not %d", port);
  } else if (family == AF_UNIX) {
    if (port != 0 || flowinfo != 0 || scope_id != 0)
      return weft__error(WEFT_EVALUE, 0,
                         "sockaddr_make: an AF_UNIX address has no port, "
                         "flowinfo or scope_id");
  }
  if (family == AF_INET && (flowinfo != 0 || scope_id != 0))
    return weft__error(WEFT_EVALUE, 0,
                       "sockaddr_make: an AF_INET address has no flowinfo "
                       "or scope_id");
  if (family == AF_INET6 && flowinfo > 0xfffff)
    return weft__error(WEFT_EVALUE, 0,
                       "sockaddr_make: flowinfo must be 0-1048575, not %u",
                       flowinfo);
  struct sockaddr_storage ss;
  socklen_t len = 0;
  memset(&ss, 0, sizeof ss);
  weft_status st;
  switch (family) {
  case AF_INET:
    st = make_inet(host, host_len, port, &ss, &len);
    break;
  case AF_INET6:
    st = make_inet6(host, host_len, port, flowinfo, scope_id, &ss, &len);
    break;
  case AF_UNIX:
    st = make_unix(host, host_len, &ss, &len);
    break;
  default:
    return weft__error(-EAFNOSUPPORT, EAFNOSUPPORT,
                       "sockaddr_make: family %d is not AF_INET, AF_INET6 "
                       "or AF_UNIX",
                       family);
  }
  if (st < 0)
    return st;
  memcpy(addr, &ss, len);
  *addr_len = len;
  return 0;
}

/* ---- reading addresses ---- */

WEFT_API weft_status weft_sockaddr_parse(const void *addr, size_t addr_len,
                                         int *family, char *host,
                                         size_t host_cap, size_t *host_len,
                                         int *port, uint32_t *flowinfo,
                                         uint32_t *scope_id) {
  WEFT__CHECK_PTR(family, "sockaddr_parse");
  WEFT__CHECK_PTR(host_len, "sockaddr_parse");
  WEFT__CHECK_PTR(port, "sockaddr_parse");
  WEFT__CHECK_PTR(flowinfo, "sockaddr_parse");
  WEFT__CHECK_PTR(scope_id, "sockaddr_parse");
  WEFT__CHECK_BUF(host, host_cap, "sockaddr_parse");
  weft_status st = weft__sockaddr_check(addr, addr_len, "sockaddr_parse");
  if (st < 0)
    return st;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  memcpy(&ss, addr, addr_len);
  *family = ss.ss_family;
  *port = 0;
  *flowinfo = 0;
  *scope_id = 0;
  char text[INET6_ADDRSTRLEN];
  switch (ss.ss_family) {
  case AF_INET: {
    const struct sockaddr_in *in = (const void *)&ss;
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    *port = ntohs(in->sin_port);
    return weft__string_out(text, host, host_cap, host_len,
                            "sockaddr_parse");
  }
  case AF_INET6: {
    const struct sockaddr_in6 *in6 = (const void *)&ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    *port = ntohs(in6->sin6_port);
    *flowinfo = ntohl(in6->sin6_flowinfo);
    *scope_id = in6->sin6_scope_id;
    return weft__string_out(text, host, host_cap, host_len,
                            "sockaddr_parse");
  }
  case AF_UNIX: {
    const struct sockaddr_un *un = (const void *)&ss;
    size_t n = addr_len - offsetof(struct sockaddr_un, sun_path);
    if (n > sizeof un->sun_path)
      n = sizeof un->sun_path;
    /* A path ends at its NUL (if any); an abstract name is all n bytes. */
    if (n > 0 && un->sun_path[0] != '\0') {
      const char *nul = memchr(un->sun_path, '\0', n);
      if (nul != NULL)
        n = (size_t)(nul - un->sun_path);
    }
    *host_len = n;
    if (host == NULL || host_cap < n + 1)
      return weft__error(WEFT_ERANGE, 0,
                         "sockaddr_parse: buffer of %zu bytes is too small "
                         "for %zu + 1",
                         host == NULL ? (size_t)0 : host_cap, n);
    memcpy(host, un->sun_path, n);
    host[n] = '\0';
    return 0;
  }
  default:
    return weft__error(-EAFNOSUPPORT, EAFNOSUPPORT,
                       "sockaddr_parse: family %d is not AF_INET, AF_INET6 "
                       "or AF_UNIX",
                       ss.ss_family);
  }
}

/* ---- inet_* ---- */

static weft_status bytes_out(const void *src, size_t n, void *buf,
                             size_t cap, size_t *out, const char *what) {
  *out = n;
  if (buf == NULL || cap < n)
    return weft__error(WEFT_ERANGE, 0,
                       "%s: buffer of %zu bytes is too small for %zu", what,
                       buf == NULL ? (size_t)0 : cap, n);
  memcpy(buf, src, n);
  return 0;
}

WEFT_API weft_status weft_socket_inet_aton(const char *text, void *buf,
                                           size_t cap, size_t *n) {
  WEFT__CHECK_PTR(text, "socket_inet_aton");
  WEFT__CHECK_PTR(n, "socket_inet_aton");
  WEFT__CHECK_BUF(buf, cap, "socket_inet_aton");
  struct in_addr a;
  if (inet_aton(text, &a) == 0)
    return weft__error(WEFT_EVALUE, 0,
                       "socket_inet_aton: illegal IP address string \"%s\"",
                       text);
  return bytes_out(&a, sizeof a, buf, cap, n, "socket_inet_aton");
}

WEFT_API weft_status weft_socket_inet_ntoa(const void *packed, size_t len,
                                           char *buf, size_t cap,
                                           size_t *text_len) {
  WEFT__CHECK_PTR(packed, "socket_inet_ntoa");
  WEFT__CHECK_PTR(text_len, "socket_inet_ntoa");
  WEFT__CHECK_BUF(buf, cap, "socket_inet_ntoa");
  if (len != 4)
    return weft__error(WEFT_EVALUE, 0,
                       "socket_inet_ntoa: packed IP wrong length: %zu, not "
                       "4",
                       len);
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, packed, text, sizeof text);
  return weft__string_out(text, buf, cap, text_len, "socket_inet_ntoa");
}

WEFT_API weft_status weft_socket_inet_pton(int family, const char *text,
                                           void *buf, size_t cap,
                                           size_t *n) {
  WEFT__CHECK_PTR(text, "socket_inet_pton");
  WEFT__CHECK_PTR(n, "socket_inet_pton");
  WEFT__CHECK_BUF(buf, cap, "socket_inet_pton");
  unsigned char a[sizeof(struct in6_addr)];
  size_t size;
  if (family == AF_INET)
    size = sizeof(struct in_addr);
  else if (family == AF_INET6)
    size = sizeof(struct in6_addr);
  else
    return weft__error(-EAFNOSUPPORT, EAFNOSUPPORT,
                       "socket_inet_pton: family %d is not AF_INET or "
                       "AF_INET6",
                       family);
  if (inet_pton(family, text, a) != 1)
    return weft__error(WEFT_EVALUE, 0,
                       "socket_inet_pton: illegal IP address string \"%s\"",
                       text);
  return bytes_out(a, size, buf, cap, n, "socket_inet_pton");
}

WEFT_API weft_status weft_socket_inet_ntop(int family, const void *packed,
                                           size_t len, char *buf,
                                           size_t cap, size_t *text_len) {
  WEFT__CHECK_PTR(packed, "socket_inet_ntop");
  WEFT__CHECK_PTR(text_len, "socket_inet_ntop");
  WEFT__CHECK_BUF(buf, cap, "socket_inet_ntop");
  size_t want;
  if (family == AF_INET)
    want = sizeof(struct in_addr);
  else if (family == AF_INET6)
    want = sizeof(struct in6_addr);
  else
    return weft__error(-EAFNOSUPPORT, EAFNOSUPPORT,
                       "socket_inet_ntop: family %d is not AF_INET or "
                       "AF_INET6",
                       family);
  if (len != want)
    return weft__error(WEFT_EVALUE, 0,
                       "socket_inet_ntop: packed IP wrong length for "
                       "family %d: %zu, not %zu",
                       family, len, want);
  char text[INET6_ADDRSTRLEN];
  inet_ntop(family, packed, text, sizeof text);
  return weft__string_out(text, buf, cap, text_len, "socket_inet_ntop");
}

/* ---- byte order ---- */

static weft_status swap_check(int64_t x, int64_t max, int64_t *out,
                              const char *what) {
  WEFT__CHECK_PTR(out, what);
  if (x < 0 || x > max)
    return weft__error(WEFT_EVALUE, 0, "%s: %lld is not in 0..%lld", what,
                       (long long)x, (long long)max);
  return 0;
}

WEFT_API weft_status weft_socket_htonl(int64_t x, int64_t *out) {
  weft_status st = swap_check(x, UINT32_MAX, out, "socket_htonl");
  if (st == 0)
    *out = htonl((uint32_t)x);
  return st;
}

WEFT_API weft_status weft_socket_ntohl(int64_t x, int64_t *out) {
  weft_status st = swap_check(x, UINT32_MAX, out, "socket_ntohl");
  if (st == 0)
    *out = ntohl((uint32_t)x);
  return st;
}

WEFT_API weft_status weft_socket_htons(int64_t x, int64_t *out) {
  weft_status st = swap_check(x, UINT16_MAX, out, "socket_htons");
  if (st == 0)
    *out = htons((uint16_t)x);
  return st;
}

WEFT_API weft_status weft_socket_ntohs(int64_t x, int64_t *out) {
  weft_status st = swap_check(x, UINT16_MAX, out, "socket_ntohs");
  if (st == 0)
    *out = ntohs((uint16_t)x);
  return st;
}

WEFT_API weft_status weft_socket_has_ipv6(int *has) {
  WEFT__CHECK_PTR(has, "socket_has_ipv6");
  int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  *has = fd >= 0 || errno != EAFNOSUPPORT;
  if (fd >= 0)
    close(fd);
  return 0;
}
