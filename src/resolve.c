/* resolve.c - name resolution: getaddrinfo results (the addrinfo kind),
 * getnameinfo, gethostby*, getfqdn, getserv*, getprotobyname. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "handle.h"
#include "socket.h"

weft_status weft__gai_error(int eai, const char *what, const char *name) {
  const char *sp = name != NULL && name[0] != '\0' ? " " : "";
  if (name == NULL)
    name = "";
  if (eai == EAI_SYSTEM) {
    int err = errno ? errno : EIO;
    return weft__error(-err, err, "%s%s%s: %s", what, sp, name,
                       strerrordesc_np(err));
  }
  if (eai == EAI_MEMORY)
    return weft__error(-ENOMEM, ENOMEM, "%s%s%s: %s", what, sp, name,
                       gai_strerror(eai));
  return weft__error(WEFT_EGAI, eai, "%s%s%s: %s", what, sp, name,
                     gai_strerror(eai));
}

/* ---- the addrinfo kind ---- */

typedef struct airesult {
  int family, type, proto;
  socklen_t addr_len;
  struct sockaddr_storage addr;
  const char *canonname; /* NULL: none */
} airesult;

/* getaddrinfo's list copied into one malloc'd block: this header, `count`
 * results, then the canonical names they point to.  Nothing writes it
 * after weft_addrinfo_new, so readers need no lock. */
typedef struct aiobj {
  size_t count;
  airesult r[];
} aiobj;

static int ai_fits(const struct addrinfo *ai) {
  return ai->ai_addrlen <= sizeof(struct sockaddr_storage);
}

static aiobj *ai_copy(const struct addrinfo *res) {
  size_t count = 0, names = 0;
  for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    if (!ai_fits(ai))
      continue;
    count++;
    if (ai->ai_canonname != NULL)
      names += strlen(ai->ai_canonname) + 1;
  }
  aiobj *o = malloc(sizeof *o + count * sizeof(airesult) + names);
  if (o == NULL)
    return NULL;
  char *text = (char *)&o->r[count];
  size_t i = 0;
  for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    if (!ai_fits(ai))
      continue;
    airesult *r = &o->r[i++];
    memset(r, 0, sizeof *r);
    r->family = ai->ai_family;
    r->type = ai->ai_socktype;
    r->proto = ai->ai_protocol;
    r->addr_len = ai->ai_addrlen;
    if (ai->ai_addrlen > 0)
      memcpy(&r->addr, ai->ai_addr, ai->ai_addrlen);
    if (ai->ai_canonname != NULL) {
      size_t n = strlen(ai->ai_canonname) + 1;
      memcpy(text, ai->ai_canonname, n);
      r->canonname = text;
      text += n;
    }
  }
  o->count = count;
  return o;
}

/* Python's getaddrinfo takes a port number as an int and refuses one
 * outside 0..65535 (OverflowError); getaddrinfo(3) would wrap "70000" to
 * 4464.  A port that is not all digits (after a sign) is a service name,
 * left to getaddrinfo. */
weft_status weft__port_check(const char *port, const char *what) {
  const char *p = port + (port[0] == '-' || port[0] == '+');
  if (*p == '\0')
    return 0;
  for (const char *q = p; *q != '\0'; q++)
    if (!isdigit((unsigned char)*q))
      return 0;
  errno = 0;
  long long v = strtoll(port, NULL, 10);
  if (errno == ERANGE || v < 0 || v > 65535)
    return weft__error(WEFT_EVALUE, 0, "%s: port must be 0-65535, not %s",
                       what, port);
  return 0;
}

/* "host:port" ("[::1]:80" for an IPv6 host), or whichever is not NULL,
 * for messages. */
static void ai_name(char *buf, size_t cap, const char *host,
                    const char *port) {
  if (host != NULL && port != NULL)
    snprintf(buf, cap, strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s",
             host, port);
  else
    snprintf(buf, cap, "%s", host != NULL ? host : port);
}

WEFT_API weft_status weft_addrinfo_new(const char *host, const char *port,
                                       int family, int type, int proto,
                                       int flags, weft_handle *out) {
  WEFT__CHECK_PTR(out, "addrinfo_new");
  if (host == NULL && port == NULL)
    return weft__error(WEFT_EVALUE, 0,
                       "addrinfo_new: host and port are both NULL");
  if (port != NULL) {
    weft_status st = weft__port_check(port, "addrinfo_new");
    if (st < 0)
      return st;
  }
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = type;
  hints.ai_protocol = proto;
  hints.ai_flags = flags;
  errno = 0;
  int r = getaddrinfo(host, port, &hints, &res);
  if (r != 0) {
    int err = errno; /* for EAI_SYSTEM */
    char name[NI_MAXHOST + NI_MAXSERV + 4];
    ai_name(name, sizeof name, host, port);
    errno = err;
    return weft__gai_error(r, "addrinfo_new", name);
  }
  aiobj *o = ai_copy(res);
  freeaddrinfo(res);
  if (o == NULL)
    return weft__errno(ENOMEM, "addrinfo_new");
  weft_status st = weft__handle_new(WEFT_KIND_ADDRINFO, o, out);
  if (st < 0)
    free(o);
  return st;
}

WEFT_API weft_status weft_addrinfo_count(weft_handle ai, size_t *count) {
  WEFT__CHECK_PTR(count, "addrinfo_count");
  aiobj *o = weft__handle_pin(ai, WEFT_KIND_ADDRINFO, "addrinfo_count");
  if (o == NULL)
    return WEFT__PIN_FAILED;
  *count = o->count;
  weft__handle_unpin(ai);
  return 0;
}

/* Result index of o, or NULL (-ENOENT recorded). */
static const airesult *ai_at(const aiobj *o, size_t index,
                             const char *what) {
  if (index < o->count)
    return &o->r[index];
  weft__error(-ENOENT, 0, "%s: index %zu is past the %zu results", what,
              index, o->count);
  return NULL;
}

WEFT_API weft_status weft_addrinfo_get(weft_handle ai, size_t index,
                                       int *family, int *type, int *proto,
                                       void *addr, size_t addr_cap,
                                       size_t *addr_len) {
  const char *what = "addrinfo_get";
  WEFT__CHECK_PTR(family, what);
  WEFT__CHECK_PTR(type, what);
  WEFT__CHECK_PTR(proto, what);
  weft_status st = weft__sockaddr_out_check(addr, addr_cap, addr_len, what);
  if (st < 0)
    return st;
  aiobj *o = weft__handle_pin(ai, WEFT_KIND_ADDRINFO, what);
  if (o == NULL)
    return WEFT__PIN_FAILED;
  const airesult *r = ai_at(o, index, what);
  if (r != NULL) {
    *family = r->family;
    *type = r->type;
    *proto = r->proto;
    weft__sockaddr_out(&r->addr, r->addr_len, addr, addr_cap, addr_len);
  }
  weft__handle_unpin(ai);
  return r != NULL ? 0 : -ENOENT;
}

WEFT_API weft_status weft_addrinfo_canonname(weft_handle ai, size_t index,
                                             char *buf, size_t cap,
                                             size_t *len) {
  const char *what = "addrinfo_canonname";
  WEFT__CHECK_PTR(len, what);
  WEFT__CHECK_BUF(buf, cap, what);
  aiobj *o = weft__handle_pin(ai, WEFT_KIND_ADDRINFO, what);
  if (o == NULL)
    return WEFT__PIN_FAILED;
  const airesult *r = ai_at(o, index, what);
  weft_status st = -ENOENT;
  if (r != NULL)
    st = weft__string_out(r->canonname != NULL ? r->canonname : "", buf,
                          cap, len, what);
  weft__handle_unpin(ai);
  return st;
}

static void addrinfo_destroy(void *obj) { free(obj); }

/* No close op: nobody waits on an addrinfo, and the last unpin frees it. */
static const weft__kind_ops addrinfo_ops = {.name = "addrinfo",
                                            .destroy = addrinfo_destroy};

__attribute__((constructor)) static void addrinfo_register(void) {
  weft__kind_register(WEFT_KIND_ADDRINFO, &addrinfo_ops);
}

/* ---- getnameinfo ---- */

WEFT_API weft_status weft_socket_getnameinfo(const void *addr,
                                             size_t addr_len, int flags,
                                             char *host, size_t host_cap,
                                             size_t *host_len, char *serv,
                                             size_t serv_cap,
                                             size_t *serv_len) {
  const char *what = "socket_getnameinfo";
  WEFT__CHECK_PTR(host_len, what);
  WEFT__CHECK_PTR(serv_len, what);
  WEFT__CHECK_BUF(serv, serv_cap, what);
  WEFT__CHECK_BUF(host, host_cap, what);
  weft_status st = weft__sockaddr_check(addr, addr_len, what);
  if (st < 0)
    return st;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  memcpy(&ss, addr, addr_len);
  char h[NI_MAXHOST], s[NI_MAXSERV];
  errno = 0;
  int r = getnameinfo((const struct sockaddr *)&ss, (socklen_t)addr_len, h,
                      sizeof h, s, sizeof s, flags);
  if (r != 0) {
    int err = errno;
    char text[128];
    weft__sockaddr_text(addr, addr_len, text, sizeof text);
    errno = err;
    return weft__gai_error(r, what, text);
  }
  size_t hn = strlen(h), sn = strlen(s);
  *host_len = hn;
  *serv_len = sn;
  if (host == NULL || host_cap < hn + 1 || serv == NULL ||
      serv_cap < sn + 1)
    return weft__error(WEFT_ERANGE, 0,
                       "%s: buffers of %zu and %zu bytes are too small for "
                       "%zu + 1 and %zu + 1",
                       what, host == NULL ? (size_t)0 : host_cap,
                       serv == NULL ? (size_t)0 : serv_cap, hn, sn);
  memcpy(host, h, hn + 1);
  memcpy(serv, s, sn + 1);
  return 0;
}

/* ---- gethostby* ---- */

/* The address of `name` for gethostby*, as CPython's setipaddr finds it:
 * "" is the wildcard (getaddrinfo with AI_PASSIVE; more than one result
 * is refused), "<broadcast>" and "255.255.255.255" are INADDR_BROADCAST,
 * a numeric address of af (AF_UNSPEC: either) is taken as it is (an IPv6
 * one with a zone goes to getaddrinfo, which reads the zone), and
 * anything else is resolved: the first result of getaddrinfo for af. */
static weft_status set_ipaddr(const char *name, int af,
                              struct sockaddr_storage *ss,
                              const char *what) {
  struct addrinfo hints, *res = NULL;
  memset(ss, 0, sizeof *ss);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = af;
  if (name[0] == '\0') {
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE;
    errno = 0;
    int r = getaddrinfo(NULL, "0", &hints, &res);
    if (r != 0)
      return weft__gai_error(r, what, name);
    if (res->ai_next != NULL) {
      freeaddrinfo(res);
      return weft__error(WEFT_EVALUE, 0,
                         "%s: the wildcard \"\" resolved to more than one "
                         "address",
                         what);
    }
  } else if (strcmp(name, "<broadcast>") == 0 ||
             strcmp(name, "255.255.255.255") == 0) {
    if (af != AF_INET && af != AF_UNSPEC)
      return weft__error(-EAFNOSUPPORT, EAFNOSUPPORT,
                         "%s %s: address family mismatched", what, name);
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_BROADCAST);
    return 0;
  } else {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if ((af == AF_UNSPEC || af == AF_INET) &&
        inet_pton(AF_INET, name, &in->sin_addr) == 1) {
      in->sin_family = AF_INET;
      return 0;
    }
    if ((af == AF_UNSPEC || af == AF_INET6) && strchr(name, '%') == NULL &&
        inet_pton(AF_INET6, name, &in6->sin6_addr) == 1) {
      in6->sin6_family = AF_INET6;
      return 0;
    }
    errno = 0;
    int r = getaddrinfo(name, NULL, &hints, &res);
    if (r != 0)
      return weft__gai_error(r, what, name);
  }
  int family = res->ai_family;
  if ((family == AF_INET || family == AF_INET6) &&
      res->ai_addrlen <= sizeof *ss)
    memcpy(ss, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (family != AF_INET && family != AF_INET6)
    return weft__error(-EAFNOSUPPORT, EAFNOSUPPORT,
                       "%s %s: unknown address family %d", what, name,
                       family);
  return 0;
}

/* A gethostby*_r failure: WEFT_EHOST with h_errno as the detail and
 * hstrerror's text, which is what CPython's herror shows (HOST_NOT_FOUND
 * "Unknown host", TRY_AGAIN "Host name lookup failure", NO_RECOVERY
 * "Unknown server error", NO_DATA "No address associated with name").
 * NETDB_INTERNAL is the -errno the call returned. */
static weft_status host_error(int rc, int herr, const char *what,
                              const char *name) {
  if (herr == NETDB_INTERNAL) {
    int err = rc != 0 ? rc : (errno != 0 ? errno : EIO);
    const char *t = strerrordesc_np(err);
    return weft__error(-err, err, "%s %s: %s", what, name,
                       t != NULL ? t : "resolver error");
  }
  return weft__error(WEFT_EHOST, herr, "%s %s: %s", what, name,
                     hstrerror(herr));
}

/* The get*_r calls write the strings they return into a buffer of the
 * caller's: start with 1 KiB and double it while they say ERANGE. */
#define NSSBUF_MIN 1024
#define NSSBUF_MAX (16u << 20)

/* A struct hostent and the malloc'd buffer it points into. */
typedef struct hostres {
  struct hostent h;
  char *buf;
} hostres;

/* gethostbyname_r(name) when name is not NULL, else gethostbyaddr_r.
 * `shown` names the query in messages. */
static weft_status host_lookup(const char *name, const void *addr,
                               socklen_t alen, int af, hostres *hr,
                               const char *what, const char *shown) {
  struct hostent *res = NULL;
  int rc, herr = 0;
  size_t size = NSSBUF_MIN;
  hr->buf = NULL;
  do {
    free(hr->buf);
    hr->buf = malloc(size);
    if (hr->buf == NULL)
      return weft__errno(ENOMEM, what);
    errno = 0;
    if (name != NULL)
      rc = gethostbyname_r(name, &hr->h, hr->buf, size, &res, &herr);
    else
      rc = gethostbyaddr_r(addr, alen, af, &hr->h, hr->buf, size, &res,
                           &herr);
    size *= 2;
  } while (rc == ERANGE && size <= NSSBUF_MAX);
  if (res != NULL)
    return 0;
  free(hr->buf);
  hr->buf = NULL;
  if (rc == ERANGE)
    return weft__errno(ENOMEM, what);
  return host_error(rc, herr, what, shown);
}

/* gethostbyaddr of an address or a name (resolved first, any family). */
static weft_status host_by_addr(const char *address, hostres *hr, int *af,
                                const char *what) {
  struct sockaddr_storage ss;
  weft_status st = set_ipaddr(address, AF_UNSPEC, &ss, what);
  if (st < 0)
    return st;
  *af = ss.ss_family;
  if (*af == AF_INET)
    return host_lookup(NULL, &((struct sockaddr_in *)&ss)->sin_addr,
                       sizeof(struct in_addr), AF_INET, hr, what, address);
  return host_lookup(NULL, &((struct sockaddr_in6 *)&ss)->sin6_addr,
                     sizeof(struct in6_addr), AF_INET6, hr, what, address);
}

/* Python's (hostname, aliases, addresses) as "hostname\naliases\n
 * addresses", each list space-separated, malloc'd; NULL without memory. */
static char *host_text(const struct hostent *h) {
  const char *name = h->h_name != NULL ? h->h_name : "";
  size_t n = strlen(name) + 3;
  for (char **p = h->h_aliases; p != NULL && *p != NULL; p++)
    n += strlen(*p) + 1;
  for (char **p = h->h_addr_list; *p != NULL; p++)
    n += INET6_ADDRSTRLEN + 1;
  char *s = malloc(n);
  if (s == NULL)
    return NULL;
  char *q = stpcpy(s, name);
  *q++ = '\n';
  for (char **p = h->h_aliases; p != NULL && *p != NULL; p++) {
    if (p != h->h_aliases)
      *q++ = ' ';
    q = stpcpy(q, *p);
  }
  *q++ = '\n';
  *q = '\0';
  for (char **p = h->h_addr_list; *p != NULL; p++) {
    if (p != h->h_addr_list)
      *q++ = ' ';
    if (inet_ntop(h->h_addrtype, *p, q, INET6_ADDRSTRLEN) == NULL)
      *q = '\0';
    q += strlen(q);
  }
  return s;
}

/* Write hr (freed here) as host_text, refusing an answer of another
 * family than the address asked about (as CPython does). */
static weft_status host_out(hostres *hr, int af, char *buf, size_t cap,
                            size_t *len, const char *what,
                            const char *shown) {
  weft_status st;
  if (hr->h.h_addrtype != af) {
    st = weft__error(-EAFNOSUPPORT, EAFNOSUPPORT,
                     "%s %s: the answer is of family %d, not %d", what,
                     shown, hr->h.h_addrtype, af);
  } else {
    char *text = host_text(&hr->h);
    if (text == NULL) {
      st = weft__errno(ENOMEM, what);
    } else {
      st = weft__string_out(text, buf, cap, len, what);
      free(text);
    }
  }
  free(hr->buf);
  hr->buf = NULL;
  return st;
}

WEFT_API weft_status weft_socket_gethostbyname(const char *name, char *buf,
                                               size_t cap, size_t *len) {
  const char *what = "socket_gethostbyname";
  WEFT__CHECK_PTR(name, what);
  WEFT__CHECK_PTR(len, what);
  WEFT__CHECK_BUF(buf, cap, what);
  struct sockaddr_storage ss;
  weft_status st = set_ipaddr(name, AF_INET, &ss, what);
  if (st < 0)
    return st;
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text,
            sizeof text);
  return weft__string_out(text, buf, cap, len, what);
}

WEFT_API weft_status weft_socket_gethostbyname_ex(const char *name,
                                                  char *buf, size_t cap,
                                                  size_t *len) {
  const char *what = "socket_gethostbyname_ex";
  WEFT__CHECK_PTR(name, what);
  WEFT__CHECK_PTR(len, what);
  WEFT__CHECK_BUF(buf, cap, what);
  /* As CPython: resolve first (so an unknown name fails as getaddrinfo
   * says), then ask gethostbyname_r for the names and addresses. */
  struct sockaddr_storage ss;
  weft_status st = set_ipaddr(name, AF_INET, &ss, what);
  if (st < 0)
    return st;
  hostres hr;
  st = host_lookup(name, NULL, 0, AF_INET, &hr, what, name);
  if (st < 0)
    return st;
  return host_out(&hr, ss.ss_family, buf, cap, len, what, name);
}

WEFT_API weft_status weft_socket_gethostbyaddr(const char *address,
                                               char *buf, size_t cap,
                                               size_t *len) {
  const char *what = "socket_gethostbyaddr";
  WEFT__CHECK_PTR(address, what);
  WEFT__CHECK_PTR(len, what);
  WEFT__CHECK_BUF(buf, cap, what);
  hostres hr;
  int af;
  weft_status st = host_by_addr(address, &hr, &af, what);
  if (st < 0)
    return st;
  return host_out(&hr, af, buf, cap, len, what, address);
}

/* gethostname(2) into h (NUL-terminated even when it truncates). */
static weft_status host_name(char *h, size_t cap, const char *what) {
  if (gethostname(h, cap - 1) < 0)
    return weft__errno(errno, what);
  h[cap - 1] = '\0';
  return 0;
}

WEFT_API weft_status weft_socket_gethostname(char *buf, size_t cap,
                                             size_t *len) {
  const char *what = "socket_gethostname";
  WEFT__CHECK_PTR(len, what);
  WEFT__CHECK_BUF(buf, cap, what);
  char h[1024];
  weft_status st = host_name(h, sizeof h, what);
  if (st < 0)
    return st;
  return weft__string_out(h, buf, cap, len, what);
}

/* The last error, kept across a failure that a call gets over (getfqdn's
 * lookup): a successful call leaves the last error as it was. */
typedef struct saved_error {
  weft_status code;
  int detail;
  char message[512];
} saved_error;

static void error_save(saved_error *e) {
  e->code = weft_last_error_code();
  e->detail = weft_last_error_detail();
  snprintf(e->message, sizeof e->message, "%s", weft_last_error_message());
}

static void error_restore(const saved_error *e) {
  weft__error(e->code, e->detail, "%s", e->message);
}

/* Lib/socket.py's getfqdn (3.11): strip the name; "", "0.0.0.0" and "::"
 * mean this host (gethostname); then the first name with a dot among
 * gethostbyaddr's host name and aliases, else its host name; if that
 * lookup fails, the name itself. */
WEFT_API weft_status weft_socket_getfqdn(const char *name, char *buf,
                                         size_t cap, size_t *len) {
  const char *what = "socket_getfqdn";
  WEFT__CHECK_PTR(len, what);
  WEFT__CHECK_BUF(buf, cap, what);
  if (name == NULL)
    name = "";
  while (isspace((unsigned char)*name))
    name++;
  size_t n = strlen(name);
  while (n > 0 && isspace((unsigned char)name[n - 1]))
    n--;
  char *own = strndup(name, n);
  if (own == NULL)
    return weft__errno(ENOMEM, what);
  if (n == 0 || strcmp(own, "0.0.0.0") == 0 || strcmp(own, "::") == 0) {
    char h[1024];
    weft_status st = host_name(h, sizeof h, what);
    free(own);
    if (st < 0)
      return st;
    own = strdup(h);
    if (own == NULL)
      return weft__errno(ENOMEM, what);
  }
  saved_error saved;
  error_save(&saved);
  hostres hr;
  int af;
  const char *fqdn = own;
  if (host_by_addr(own, &hr, &af, what) == 0) {
    fqdn = hr.h.h_name;
    for (char **p = hr.h.h_aliases;
         strchr(fqdn, '.') == NULL && p != NULL && *p != NULL; p++)
      if (strchr(*p, '.') != NULL)
        fqdn = *p;
  } else {
    hr.buf = NULL;
    error_restore(&saved);
  }
  weft_status st = weft__string_out(fqdn, buf, cap, len, what);
  free(hr.buf);
  free(own);
  return st;
}

/* ---- services and protocols ---- */

WEFT_API weft_status weft_socket_getservbyname(const char *name,
                                               const char *proto,
                                               int *port) {
  const char *what = "socket_getservbyname";
  WEFT__CHECK_PTR(name, what);
  WEFT__CHECK_PTR(port, what);
  struct servent se, *res = NULL;
  char *b = NULL;
  size_t size = NSSBUF_MIN;
  int rc;
  do {
    free(b);
    b = malloc(size);
    if (b == NULL)
      return weft__errno(ENOMEM, what);
    rc = getservbyname_r(name, proto, &se, b, size, &res);
    size *= 2;
  } while (rc == ERANGE && size <= NSSBUF_MAX);
  if (res != NULL)
    *port = ntohs((uint16_t)res->s_port);
  free(b);
  if (res != NULL)
    return 0;
  if (rc != 0 && rc != ENOENT)
    return weft__errno(rc == ERANGE ? ENOMEM : rc, what);
  return weft__error(-ENOENT, 0, "%s: service/proto not found (%s/%s)",
                     what, name, proto != NULL ? proto : "any");
}

WEFT_API weft_status weft_socket_getservbyport(int port, const char *proto,
                                               char *buf, size_t cap,
                                               size_t *len) {
  const char *what = "socket_getservbyport";
  WEFT__CHECK_PTR(len, what);
  WEFT__CHECK_BUF(buf, cap, what);
  if (port < 0 || port > 65535)
    return weft__error(WEFT_EVALUE, 0, "%s: port must be 0-65535, not %d",
                       what, port);
  struct servent se, *res = NULL;
  char *b = NULL;
  size_t size = NSSBUF_MIN;
  int rc;
  do {
    free(b);
    b = malloc(size);
    if (b == NULL)
      return weft__errno(ENOMEM, what);
    rc = getservbyport_r((int)htons((uint16_t)port), proto, &se, b, size,
                         &res);
    size *= 2;
  } while (rc == ERANGE && size <= NSSBUF_MAX);
  weft_status st;
  if (res != NULL)
    st = weft__string_out(res->s_name, buf, cap, len, what);
  else if (rc != 0 && rc != ENOENT)
    st = weft__errno(rc == ERANGE ? ENOMEM : rc, what);
  else
    st = weft__error(-ENOENT, 0, "%s: port/proto not found (%d/%s)", what,
                     port, proto != NULL ? proto : "any");
  free(b);
  return st;
}

WEFT_API weft_status weft_socket_getprotobyname(const char *name,
                                                int *proto) {
  const char *what = "socket_getprotobyname";
  WEFT__CHECK_PTR(name, what);
  WEFT__CHECK_PTR(proto, what);
  struct protoent pe, *res = NULL;
  char *b = NULL;
  size_t size = NSSBUF_MIN;
  int rc;
  do {
    free(b);
    b = malloc(size);
    if (b == NULL)
      return weft__errno(ENOMEM, what);
    rc = getprotobyname_r(name, &pe, b, size, &res);
    size *= 2;
  } while (rc == ERANGE && size <= NSSBUF_MAX);
  if (res != NULL)
    *proto = res->p_proto;
  free(b);
  if (res != NULL)
    return 0;
  if (rc != 0 && rc != ENOENT)
    return weft__errno(rc == ERANGE ? ENOMEM : rc, what);
  return weft__error(-ENOENT, 0, "%s: protocol not found (%s)", what, name);
}
