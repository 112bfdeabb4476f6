/* test-resolve.c - name resolution: getaddrinfo results (the addrinfo
 * kind), getnameinfo, gethostby*, gethostname, getfqdn, getserv*,
 * getprotobyname.  Loopback names and numeric addresses only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"

typedef struct res {
  int family, type, proto;
  unsigned char addr[WEFT_SOCKADDR_MAX];
  size_t addr_len;
} res;

static weft_status get(weft_handle ai, size_t i, res *r) {
  return weft_addrinfo_get(ai, i, &r->family, &r->type, &r->proto, r->addr,
                           sizeof r->addr, &r->addr_len);
}

/* The host text and port of an address ("" and -1 if it does not parse). */
static const char *host_of(const res *r, int *port) {
  static char host[128];
  int family;
  uint32_t flow, scope;
  size_t hl;
  if (weft_sockaddr_parse(r->addr, r->addr_len, &family, host, sizeof host,
                          &hl, port, &flow, &scope) != 0) {
    host[0] = '\0';
    *port = -1;
  }
  return host;
}

static size_t count_of(weft_handle ai) {
  size_t n = 0;
  weft_addrinfo_count(ai, &n);
  return n;
}

/* The message of the last error holds gai_strerror(detail). */
static int message_has_gai_text(void) {
  const char *text = gai_strerror(weft_last_error_detail());
  return strstr(weft_last_error_message(), text) != NULL;
}

/* ---- getaddrinfo ---- */

static void test_numeric(void) {
  weft_handle ai = 0;
  is(weft_addrinfo_new("127.0.0.1", "80", AF_INET, SOCK_STREAM, 0, 0, &ai),
     0, "addrinfo_new of 127.0.0.1:80 (AF_INET, SOCK_STREAM)");
  int kind = 0;
  weft_handle_kind(ai, &kind);
  is(kind, WEFT_KIND_ADDRINFO, "its kind is WEFT_KIND_ADDRINFO");
  is(count_of(ai), 1, "one result");
  res r;
  is(get(ai, 0, &r), 0, "addrinfo_get(0)");
  is(r.family, AF_INET, "its family is AF_INET");
  is(r.type, SOCK_STREAM, "its type is SOCK_STREAM");
  is(r.proto, IPPROTO_TCP, "its proto is IPPROTO_TCP");
  is(r.addr_len, sizeof(struct sockaddr_in), "its address is a sockaddr_in");
  int port;
  ok(strcmp(host_of(&r, &port), "127.0.0.1") == 0, "its host is 127.0.0.1");
  is(port, 80, "its port is 80");
  weft_close(ai);

  is(weft_addrinfo_new("::1", "443", AF_INET6, SOCK_DGRAM, 0, 0, &ai), 0,
     "addrinfo_new of [::1]:443 (AF_INET6, SOCK_DGRAM)");
  is(get(ai, 0, &r), 0, "addrinfo_get(0)");
  is(r.family, AF_INET6, "its family is AF_INET6");
  is(r.type, SOCK_DGRAM, "its type is SOCK_DGRAM");
  is(r.proto, IPPROTO_UDP, "its proto is IPPROTO_UDP");
  ok(strcmp(host_of(&r, &port), "::1") == 0 && port == 443,
     "its address is [::1]:443");
  weft_close(ai);

  is(weft_addrinfo_new("127.0.0.1", NULL, AF_INET, SOCK_STREAM, 0, 0, &ai),
     0, "port may be NULL");
  is(get(ai, 0, &r), 0, "addrinfo_get(0)");
  host_of(&r, &port);
  is(port, 0, "a NULL port is port 0");
  weft_close(ai);

  is(weft_addrinfo_new(NULL, "8080", AF_INET, SOCK_STREAM, 0, AI_PASSIVE,
                       &ai),
     0, "host may be NULL (AI_PASSIVE)");
  is(get(ai, 0, &r), 0, "addrinfo_get(0)");
  ok(strcmp(host_of(&r, &port), "0.0.0.0") == 0 && port == 8080,
     "a NULL host with AI_PASSIVE is the wildcard 0.0.0.0:8080");
  weft_close(ai);

  is(weft_addrinfo_new(NULL, "8080", AF_INET, SOCK_STREAM, 0, 0, &ai), 0,
     "host NULL without AI_PASSIVE");
  is(get(ai, 0, &r), 0, "addrinfo_get(0)");
  ok(strcmp(host_of(&r, &port), "127.0.0.1") == 0,
     "a NULL host without AI_PASSIVE is the loopback address");
  weft_close(ai);
}

static void test_filters(void) {
  weft_handle ai = 0;
  is(weft_addrinfo_new("127.0.0.1", "80", AF_INET, 0, 0, 0, &ai), 0,
     "addrinfo_new with no type filter");
  size_t n = count_of(ai);
  ok(n >= 2, "gives a result per socket type (%zu)", n);
  int stream = 0, dgram = 0;
  for (size_t i = 0; i < n; i++) {
    res r;
    get(ai, i, &r);
    stream += r.type == SOCK_STREAM;
    dgram += r.type == SOCK_DGRAM;
  }
  ok(stream == 1 && dgram == 1, "among them one SOCK_STREAM, one SOCK_DGRAM");
  weft_close(ai);

  is(weft_addrinfo_new("127.0.0.1", "80", AF_INET, 0, IPPROTO_UDP, 0, &ai),
     0, "addrinfo_new filtered by proto IPPROTO_UDP");
  n = count_of(ai);
  int all_udp = n > 0;
  for (size_t i = 0; i < n; i++) {
    res r;
    get(ai, i, &r);
    all_udp = all_udp && r.proto == IPPROTO_UDP && r.type == SOCK_DGRAM;
  }
  ok(all_udp, "gives only UDP datagram results (%zu)", n);
  weft_close(ai);

  is(weft_addrinfo_new("127.0.0.1", "80", AF_INET6, SOCK_STREAM, 0, 0, &ai),
     WEFT_EGAI, "an IPv4 address filtered to AF_INET6 is EGAI");
  ok(weft_last_error_detail() != 0, "with an EAI detail (%d)",
     weft_last_error_detail());
}

static void test_localhost(void) {
  weft_handle ai = 0;
  is(weft_addrinfo_new("localhost", "80", AF_UNSPEC, SOCK_STREAM, 0, 0, &ai),
     0, "addrinfo_new of localhost:80 (AF_UNSPEC)");
  size_t n = count_of(ai);
  ok(n >= 1 && n <= 2, "one or two results (%zu)", n);
  int loopback = n > 0;
  for (size_t i = 0; i < n; i++) {
    res r;
    int port;
    get(ai, i, &r);
    const char *h = host_of(&r, &port);
    loopback = loopback && port == 80 &&
               ((r.family == AF_INET && strcmp(h, "127.0.0.1") == 0) ||
                (r.family == AF_INET6 && strcmp(h, "::1") == 0));
  }
  ok(loopback, "each is 127.0.0.1:80 or [::1]:80");
  weft_close(ai);

  is(weft_addrinfo_new("localhost", "80", AF_INET, SOCK_STREAM, 0, 0, &ai),
     0, "addrinfo_new of localhost (AF_INET)");
  res r;
  int port;
  get(ai, 0, &r);
  ok(count_of(ai) == 1 && r.family == AF_INET &&
         strcmp(host_of(&r, &port), "127.0.0.1") == 0,
     "the family filter leaves 127.0.0.1 alone");
  weft_close(ai);
}

static void test_canonname(void) {
  weft_handle ai = 0;
  char buf[256];
  size_t len = 0;
  is(weft_addrinfo_new("localhost", NULL, AF_INET, SOCK_STREAM, 0,
                       AI_CANONNAME, &ai),
     0, "addrinfo_new with AI_CANONNAME");
  is(weft_addrinfo_canonname(ai, 0, buf, sizeof buf, &len), 0,
     "canonname(0)");
  ok(len > 0 && strlen(buf) == len, "the first result has a canonical name "
     "(\"%s\")", buf);
  is(weft_addrinfo_canonname(ai, 0, buf, len, &len), WEFT_ERANGE,
     "a buffer without room for the NUL is ERANGE");
  char *exact = malloc(len + 1);
  is(weft_addrinfo_canonname(ai, 0, exact, len + 1, &len), 0,
     "the retry with len + 1 bytes succeeds");
  ok(strcmp(exact, buf) == 0, "and gives the same name");
  free(exact);
  is(weft_addrinfo_canonname(ai, 0, NULL, 0, &len), WEFT_ERANGE,
     "a NULL buffer is ERANGE (a length query)");
  ok(len == strlen(buf), "which still sets the length");
  weft_close(ai);

  is(weft_addrinfo_new("127.0.0.1", "80", AF_INET, 0, 0, 0, &ai), 0,
     "addrinfo_new without AI_CANONNAME");
  is(weft_addrinfo_canonname(ai, 0, buf, sizeof buf, &len), 0,
     "canonname(0)");
  ok(len == 0 && buf[0] == '\0', "is \"\" without AI_CANONNAME");
  if (count_of(ai) > 1) {
    is(weft_addrinfo_canonname(ai, 1, buf, sizeof buf, &len), 0,
       "canonname(1)");
    ok(len == 0, "a later result has none either");
  }
  weft_close(ai);
}

static void test_numerichost(void) {
  weft_handle ai = 12345;
  is(weft_addrinfo_new("localhost", "80", AF_UNSPEC, SOCK_STREAM, 0,
                       AI_NUMERICHOST, &ai),
     WEFT_EGAI, "AI_NUMERICHOST refuses a name");
  is(weft_last_error_detail(), EAI_NONAME, "with detail EAI_NONAME");
  ok(message_has_gai_text(), "the message holds gai_strerror's text: %s",
     weft_last_error_message());
  ok(strncmp(weft_last_error_message(), "addrinfo_new", 12) == 0,
     "the message names addrinfo_new");
  is(ai, 12345, "out is untouched on failure");
  is(weft_addrinfo_new("127.0.0.1", "80", AF_UNSPEC, SOCK_STREAM, 0,
                       AI_NUMERICHOST, &ai),
     0, "AI_NUMERICHOST takes a numeric address");
  weft_close(ai);
}

static void test_unknown_host(void) {
  weft_handle ai;
  is(weft_addrinfo_new("no-such-host.invalid", "80", AF_UNSPEC, SOCK_STREAM,
                       0, 0, &ai),
     WEFT_EGAI, "an unknown host is EGAI");
  ok(weft_last_error_detail() != 0, "with an EAI detail (%d)",
     weft_last_error_detail());
  ok(message_has_gai_text(), "the message holds gai_strerror's text: %s",
     weft_last_error_message());
  ok(strstr(weft_last_error_message(), "no-such-host.invalid") != NULL,
     "the message names the host");
}

static void test_services(void) {
  weft_handle ai;
  res r;
  int port = -1;
  is(weft_addrinfo_new("127.0.0.1", "http", AF_INET, SOCK_STREAM, 0, 0, &ai),
     0, "a service name as port");
  get(ai, 0, &r);
  host_of(&r, &port);
  is(port, 80, "\"http\" is port 80");
  weft_close(ai);

  is(weft_addrinfo_new("127.0.0.1", "no-such-service", AF_INET, SOCK_STREAM,
                       0, 0, &ai),
     WEFT_EGAI, "an unknown service is EGAI");
  is(weft_last_error_detail(), EAI_SERVICE, "with detail EAI_SERVICE");

  is(weft_addrinfo_new("127.0.0.1", "65535", AF_INET, SOCK_STREAM, 0, 0,
                       &ai),
     0, "port 65535 is taken");
  get(ai, 0, &r);
  host_of(&r, &port);
  is(port, 65535, "as 65535");
  weft_close(ai);
  is(weft_addrinfo_new("127.0.0.1", "70000", AF_INET, SOCK_STREAM, 0, 0,
                       &ai),
     WEFT_EVALUE, "port 70000 is EVALUE (not wrapped to 4464)");
  ok(strstr(weft_last_error_message(), "port must be 0-65535") != NULL,
     "the message says the range: %s", weft_last_error_message());
  is(weft_addrinfo_new("127.0.0.1", "-1", AF_INET, SOCK_STREAM, 0, 0, &ai),
     WEFT_EVALUE, "port -1 is EVALUE");
  is(weft_addrinfo_new("127.0.0.1", "99999999999999999999999", AF_INET,
                       SOCK_STREAM, 0, 0, &ai),
     WEFT_EVALUE, "a port past int64 is EVALUE");
}

static void test_arguments(void) {
  weft_handle ai;
  is(weft_addrinfo_new(NULL, NULL, 0, 0, 0, 0, &ai), WEFT_EVALUE,
     "host and port both NULL is EVALUE");
  is(weft_addrinfo_new("127.0.0.1", "80", 0, 0, 0, 0, NULL), WEFT_EVALUE,
     "a NULL out is EVALUE");

  is(weft_addrinfo_new("127.0.0.1", "80", AF_INET, SOCK_STREAM, 0, 0, &ai),
     0, "addrinfo_new");
  res r;
  size_t n = 99;
  is(weft_addrinfo_count(ai, NULL), WEFT_EVALUE, "count with NULL count");
  is(weft_addrinfo_get(ai, 0, NULL, &r.type, &r.proto, r.addr,
                       sizeof r.addr, &r.addr_len),
     WEFT_EVALUE, "get with NULL family");
  is(weft_addrinfo_get(ai, 0, &r.family, NULL, &r.proto, r.addr,
                       sizeof r.addr, &r.addr_len),
     WEFT_EVALUE, "get with NULL type");
  is(weft_addrinfo_get(ai, 0, &r.family, &r.type, NULL, r.addr,
                       sizeof r.addr, &r.addr_len),
     WEFT_EVALUE, "get with NULL proto");
  is(weft_addrinfo_get(ai, 0, &r.family, &r.type, &r.proto, r.addr,
                       sizeof r.addr, NULL),
     WEFT_EVALUE, "get with NULL addr_len");
  is(weft_addrinfo_canonname(ai, 0, NULL, 0, NULL), WEFT_EVALUE,
     "canonname with NULL len");

  is(weft_addrinfo_get(ai, 1, &r.family, &r.type, &r.proto, r.addr,
                       sizeof r.addr, &r.addr_len),
     -ENOENT, "get past the end is -ENOENT");
  ok(strncmp(weft_last_error_message(), "addrinfo_get:", 13) == 0,
     "the message names addrinfo_get");
  is(weft_addrinfo_get(ai, SIZE_MAX, &r.family, &r.type, &r.proto, r.addr,
                       sizeof r.addr, &r.addr_len),
     -ENOENT, "get at SIZE_MAX is -ENOENT");
  char buf[64];
  size_t len;
  is(weft_addrinfo_canonname(ai, 1, buf, sizeof buf, &len), -ENOENT,
     "canonname past the end is -ENOENT");

  r.addr_len = 0;
  is(weft_addrinfo_get(ai, 0, &r.family, &r.type, &r.proto, r.addr, 16,
                       &r.addr_len),
     WEFT_ERANGE, "an address buffer below WEFT_SOCKADDR_MAX is ERANGE");
  is(r.addr_len, WEFT_SOCKADDR_MAX, "with addr_len = WEFT_SOCKADDR_MAX");
  r.family = -1;
  r.addr_len = 99;
  is(weft_addrinfo_get(ai, 0, &r.family, &r.type, &r.proto, NULL, 0,
                       &r.addr_len),
     0, "a NULL address with cap 0 is not wanted");
  ok(r.family == AF_INET && r.addr_len == 0,
     "the rest is given, addr_len is 0");
  is(weft_addrinfo_get(ai, 0, &r.family, &r.type, &r.proto, NULL, 128,
                       &r.addr_len),
     WEFT_ERANGE, "a NULL address with a cap is ERANGE");

  weft_handle ev;
  weft_event_new(&ev);
  is(weft_addrinfo_count(ev, &n), WEFT_EBADHANDLE,
     "count of an Event handle is EBADHANDLE");
  is(weft_addrinfo_get(ev, 0, &r.family, &r.type, &r.proto, r.addr,
                       sizeof r.addr, &r.addr_len),
     WEFT_EBADHANDLE, "get of an Event handle is EBADHANDLE");
  is(weft_addrinfo_canonname(ev, 0, buf, sizeof buf, &len), WEFT_EBADHANDLE,
     "canonname of an Event handle is EBADHANDLE");
  weft_close(ev);

  is(weft_close(ai), 0, "close");
  is(weft_addrinfo_count(ai, &n), WEFT_EBADHANDLE,
     "count after close is EBADHANDLE");
  is(weft_addrinfo_get(ai, 0, &r.family, &r.type, &r.proto, r.addr,
                       sizeof r.addr, &r.addr_len),
     WEFT_EBADHANDLE, "get after close is EBADHANDLE");
  is(weft_addrinfo_canonname(ai, 0, buf, sizeof buf, &len), WEFT_EBADHANDLE,
     "canonname after close is EBADHANDLE");
  is(weft_close(ai), WEFT_EBADHANDLE, "closing twice is EBADHANDLE");
  is(weft_addrinfo_count(0, &n), WEFT_EBADHANDLE,
     "count of handle 0 is EBADHANDLE");
}

/* ---- getnameinfo ---- */

static void test_getnameinfo(void) {
  unsigned char a[WEFT_SOCKADDR_MAX];
  size_t alen;
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  size_t hl = 0, sl = 0;
  weft_sockaddr_make(AF_INET, "127.0.0.1", 9, 8080, 0, 0, a, sizeof a,
                     &alen);
  is(weft_socket_getnameinfo(a, alen, NI_NUMERICHOST | NI_NUMERICSERV, host,
                             sizeof host, &hl, serv, sizeof serv, &sl),
     0, "getnameinfo of 127.0.0.1:8080, numeric");
  ok(strcmp(host, "127.0.0.1") == 0 && hl == 9, "host is 127.0.0.1");
  ok(strcmp(serv, "8080") == 0 && sl == 4, "serv is 8080");

  weft_sockaddr_make(AF_INET6, "::1", 3, 443, 0, 0, a, sizeof a, &alen);
  is(weft_socket_getnameinfo(a, alen, NI_NUMERICHOST | NI_NUMERICSERV, host,
                             sizeof host, &hl, serv, sizeof serv, &sl),
     0, "getnameinfo of [::1]:443, numeric");
  ok(strcmp(host, "::1") == 0 && strcmp(serv, "443") == 0,
     "gives ::1 and 443");

  weft_sockaddr_make(AF_INET, "127.0.0.1", 9, 80, 0, 0, a, sizeof a, &alen);
  is(weft_socket_getnameinfo(a, alen, NI_NUMERICHOST, host, sizeof host,
                             &hl, serv, sizeof serv, &sl),
     0, "getnameinfo with a service name");
  ok(strcmp(serv, "http") == 0, "port 80 is \"http\" (%s)", serv);

  hl = sl = 0;
  is(weft_socket_getnameinfo(a, alen, NI_NUMERICHOST | NI_NUMERICSERV, host,
                             2, &hl, serv, 1, &sl),
     WEFT_ERANGE, "both buffers too small is ERANGE");
  ok(hl == 9 && sl == 2, "both lengths are set (%zu, %zu)", hl, sl);
  is(weft_socket_getnameinfo(a, alen, NI_NUMERICHOST | NI_NUMERICSERV, host,
                             sizeof host, &hl, serv, 2, &sl),
     WEFT_ERANGE, "a serv buffer without room for the NUL is ERANGE");
  is(weft_socket_getnameinfo(a, alen, NI_NUMERICHOST | NI_NUMERICSERV, host,
                             9, &hl, serv, sizeof serv, &sl),
     WEFT_ERANGE, "a host buffer without room for the NUL is ERANGE");
  char h2[10], s2[3];
  is(weft_socket_getnameinfo(a, alen, NI_NUMERICHOST | NI_NUMERICSERV, h2,
                             hl + 1, &hl, s2, sl + 1, &sl),
     0, "the retry with len + 1 bytes each succeeds");
  ok(strcmp(h2, "127.0.0.1") == 0 && strcmp(s2, "80") == 0,
     "and gives 127.0.0.1 and 80");

  is(weft_socket_getnameinfo(NULL, 16, 0, host, sizeof host, &hl, serv,
                             sizeof serv, &sl),
     WEFT_EVALUE, "a NULL address is EVALUE");
  is(weft_socket_getnameinfo(a, 1, 0, host, sizeof host, &hl, serv,
                             sizeof serv, &sl),
     WEFT_EVALUE, "a 1-byte address is EVALUE");
  is(weft_socket_getnameinfo(a, 8, 0, host, sizeof host, &hl, serv,
                             sizeof serv, &sl),
     WEFT_EVALUE, "an AF_INET address of 8 bytes is EVALUE");
  is(weft_socket_getnameinfo(a, alen, 0, host, sizeof host, NULL, serv,
                             sizeof serv, &sl),
     WEFT_EVALUE, "a NULL host_len is EVALUE");
  is(weft_socket_getnameinfo(a, alen, 0, host, sizeof host, &hl, serv,
                             sizeof serv, NULL),
     WEFT_EVALUE, "a NULL serv_len is EVALUE");
  ok(strncmp(weft_last_error_message(), "socket_getnameinfo:", 19) == 0,
     "the message names socket_getnameinfo");

  weft_sockaddr_make(AF_INET, "127.0.0.1", 9, 1, 0, 0, a, sizeof a, &alen);
  is(weft_socket_getnameinfo(a, alen, NI_NUMERICHOST | NI_NAMEREQD, host,
                             sizeof host, &hl, serv, sizeof serv, &sl),
     WEFT_EGAI, "NI_NUMERICHOST | NI_NAMEREQD is EGAI");
  ok(weft_last_error_detail() != 0 && message_has_gai_text(),
     "with an EAI detail and gai_strerror's text: %s",
     weft_last_error_message());
}

/* ---- gethostby* ---- */

static void test_gethostbyname(void) {
  char buf[64];
  size_t len = 0;
  is(weft_socket_gethostbyname("localhost", buf, sizeof buf, &len), 0,
     "gethostbyname(localhost)");
  ok(strcmp(buf, "127.0.0.1") == 0 && len == 9, "is 127.0.0.1");
  is(weft_socket_gethostbyname("10.1.2.3", buf, sizeof buf, &len), 0,
     "gethostbyname of a numeric address");
  ok(strcmp(buf, "10.1.2.3") == 0, "gives it unchanged");
  is(weft_socket_gethostbyname("<broadcast>", buf, sizeof buf, &len), 0,
     "gethostbyname(<broadcast>)");
  ok(strcmp(buf, "255.255.255.255") == 0, "is 255.255.255.255");
  is(weft_socket_gethostbyname("", buf, sizeof buf, &len), 0,
     "gethostbyname(\"\")");
  ok(strcmp(buf, "0.0.0.0") == 0, "is 0.0.0.0");
  is(weft_socket_gethostbyname("no-such-host.invalid", buf, sizeof buf,
                               &len),
     WEFT_EGAI, "gethostbyname of an unknown host is EGAI");
  ok(weft_last_error_detail() != 0 && message_has_gai_text(),
     "with an EAI detail and gai_strerror's text: %s",
     weft_last_error_message());
  is(weft_socket_gethostbyname("::1", buf, sizeof buf, &len), WEFT_EGAI,
     "gethostbyname of an IPv6 address is EGAI (IPv4 only)");

  is(weft_socket_gethostbyname("127.0.0.1", buf, 9, &len), WEFT_ERANGE,
     "a buffer without room for the NUL is ERANGE");
  is(len, 9, "with len 9");
  char exact[10];
  is(weft_socket_gethostbyname("127.0.0.1", exact, len + 1, &len), 0,
     "the retry with len + 1 bytes succeeds");
  ok(strcmp(exact, "127.0.0.1") == 0, "and gives 127.0.0.1");
  is(weft_socket_gethostbyname(NULL, buf, sizeof buf, &len), WEFT_EVALUE,
     "a NULL name is EVALUE");
  is(weft_socket_gethostbyname("localhost", buf, sizeof buf, NULL),
     WEFT_EVALUE, "a NULL len is EVALUE");
}

/* Split "a\nb\nc" into its three lines (in place); 0 unless there are
 * exactly three. */
static int three_lines(char *s, char **line) {
  line[0] = s;
  for (int i = 1; i < 3; i++) {
    char *nl = strchr(line[i - 1], '\n');
    if (nl == NULL)
      return 0;
    *nl = '\0';
    line[i] = nl + 1;
  }
  return strchr(line[2], '\n') == NULL;
}

/* Whether the space-separated list holds word. */
static int list_has(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
      return 1;
  return 0;
}

static void test_gethostbyname_ex(void) {
  char buf[1024], *line[3];
  size_t len = 0;
  is(weft_socket_gethostbyname_ex("localhost", buf, sizeof buf, &len), 0,
     "gethostbyname_ex(localhost)");
  ok(strlen(buf) == len, "len is the text's length");
  ok(three_lines(buf, line), "gives three lines");
  ok(strlen(line[0]) > 0 && strchr(line[0], ' ') == NULL,
     "the first is one host name (%s)", line[0]);
  ok(list_has(line[2], "127.0.0.1"), "the addresses hold 127.0.0.1 (%s)",
     line[2]);

  is(weft_socket_gethostbyname_ex("127.0.0.1", buf, sizeof buf, &len), 0,
     "gethostbyname_ex(127.0.0.1)");
  ok(three_lines(buf, line) && strcmp(line[2], "127.0.0.1") == 0,
     "gives three lines, the last 127.0.0.1");

  is(weft_socket_gethostbyname_ex("no-such-host.invalid", buf, sizeof buf,
                                  &len),
     WEFT_EGAI, "gethostbyname_ex of an unknown host is EGAI");
  ok(weft_last_error_detail() != 0 && message_has_gai_text(),
     "with an EAI detail and gai_strerror's text: %s",
     weft_last_error_message());

  weft_socket_gethostbyname_ex("localhost", buf, sizeof buf, &len);
  size_t want = len;
  is(weft_socket_gethostbyname_ex("localhost", buf, want, &len), WEFT_ERANGE,
     "a buffer without room for the NUL is ERANGE");
  is(len, want, "with the full length");
  char *exact = malloc(len + 1);
  is(weft_socket_gethostbyname_ex("localhost", exact, len + 1, &len), 0,
     "the retry with len + 1 bytes succeeds");
  ok(strcmp(exact, buf) == 0, "and gives the same text");
  free(exact);
  is(weft_socket_gethostbyname_ex(NULL, buf, sizeof buf, &len), WEFT_EVALUE,
     "a NULL name is EVALUE");
  is(weft_socket_gethostbyname_ex("localhost", buf, sizeof buf, NULL),
     WEFT_EVALUE, "a NULL len is EVALUE");
}

static void test_gethostbyaddr(void) {
  char buf[1024], *line[3];
  size_t len = 0;
  is(weft_socket_gethostbyaddr("127.0.0.1", buf, sizeof buf, &len), 0,
     "gethostbyaddr(127.0.0.1)");
  ok(three_lines(buf, line), "gives three lines");
  ok(strlen(line[0]) > 0 && strchr(line[0], ' ') == NULL,
     "the first is one host name (%s)", line[0]);
  ok(strcmp(line[2], "127.0.0.1") == 0, "the addresses are 127.0.0.1 (%s)",
     line[2]);

  is(weft_socket_gethostbyaddr("localhost", buf, sizeof buf, &len), 0,
     "gethostbyaddr of a name (resolved first)");
  ok(three_lines(buf, line) &&
         (strcmp(line[2], "127.0.0.1") == 0 || strcmp(line[2], "::1") == 0),
     "gives a loopback address (%s)", line[2]);

  is(weft_socket_gethostbyaddr("no-such-host.invalid", buf, sizeof buf,
                               &len),
     WEFT_EGAI, "gethostbyaddr of an unknown name is EGAI");
  ok(weft_last_error_detail() != 0 && message_has_gai_text(),
     "with an EAI detail and gai_strerror's text: %s",
     weft_last_error_message());

  /* An address no name is known for: h_errno's HOST_NOT_FOUND (here; a
   * resolver that cannot be reached says TRY_AGAIN). */
  weft_status st = weft_socket_gethostbyaddr("127.0.0.2", buf, sizeof buf,
                                             &len);
  if (st == 0) {
    ok(1, "# SKIP 127.0.0.2 has a name here (%s)", buf);
  } else {
    int d = weft_last_error_detail();
    ok(st == WEFT_EHOST && (d == HOST_NOT_FOUND || d == TRY_AGAIN),
       "an address without a name is WEFT_EHOST, HOST_NOT_FOUND or "
       "TRY_AGAIN: %s",
       weft_last_error_message());
    if (d == HOST_NOT_FOUND)
      ok(strstr(weft_last_error_message(), "Unknown host") != NULL,
         "HOST_NOT_FOUND says \"Unknown host\"");
  }

  weft_socket_gethostbyaddr("127.0.0.1", buf, sizeof buf, &len);
  size_t want = len;
  is(weft_socket_gethostbyaddr("127.0.0.1", buf, want, &len), WEFT_ERANGE,
     "a buffer without room for the NUL is ERANGE");
  is(len, want, "with the full length");
  char *exact = malloc(len + 1);
  is(weft_socket_gethostbyaddr("127.0.0.1", exact, len + 1, &len), 0,
     "the retry with len + 1 bytes succeeds");
  ok(strcmp(exact, buf) == 0, "and gives the same text");
  free(exact);
  is(weft_socket_gethostbyaddr(NULL, buf, sizeof buf, &len), WEFT_EVALUE,
     "a NULL address is EVALUE");
  is(weft_socket_gethostbyaddr("127.0.0.1", buf, sizeof buf, NULL),
     WEFT_EVALUE, "a NULL len is EVALUE");
}

/* ---- gethostname, getfqdn ---- */

static void test_gethostname(void) {
  char want[1024], buf[1024];
  size_t len = 0;
  gethostname(want, sizeof want);
  is(weft_socket_gethostname(buf, sizeof buf, &len), 0, "gethostname");
  ok(strcmp(buf, want) == 0 && len == strlen(want),
     "matches gethostname(2) (%s)", buf);
  is(weft_socket_gethostname(buf, len, &len), WEFT_ERANGE,
     "a buffer without room for the NUL is ERANGE");
  char *exact = malloc(len + 1);
  is(weft_socket_gethostname(exact, len + 1, &len), 0,
     "the retry with len + 1 bytes succeeds");
  ok(strcmp(exact, want) == 0, "and gives the host name");
  free(exact);
  is(weft_socket_gethostname(buf, sizeof buf, NULL), WEFT_EVALUE,
     "a NULL len is EVALUE");
}

static void test_getfqdn(void) {
  char host[1024], a[1024], b[1024];
  size_t len = 0, blen = 0;
  gethostname(host, sizeof host);
  is(weft_socket_getfqdn(NULL, a, sizeof a, &len), 0, "getfqdn(NULL)");
  ok(len > 0 && strlen(a) == len, "is not empty (%s)", a);
  is(weft_socket_getfqdn("", b, sizeof b, &blen), 0, "getfqdn(\"\")");
  ok(strcmp(a, b) == 0, "equals getfqdn(NULL)");
  is(weft_socket_getfqdn(host, b, sizeof b, &blen), 0,
     "getfqdn of the host name");
  ok(strcmp(a, b) == 0, "equals getfqdn(\"\") (%s)", b);
  is(weft_socket_getfqdn("0.0.0.0", b, sizeof b, &blen), 0,
     "getfqdn(0.0.0.0)");
  ok(strcmp(a, b) == 0, "means this host too");
  is(weft_socket_getfqdn("  ", b, sizeof b, &blen), 0, "getfqdn(\"  \")");
  ok(strcmp(a, b) == 0, "blanks are stripped: this host");

  weft_socket_gethostbyname(NULL, b, sizeof b, &blen); /* an EVALUE */
  weft_status before = weft_last_error_code();
  is(weft_socket_getfqdn(" no-such-host.invalid ", b, sizeof b, &blen), 0,
     "getfqdn of an unknown name succeeds");
  ok(strcmp(b, "no-such-host.invalid") == 0,
     "giving the name itself, stripped (%s)", b);
  is(weft_last_error_code(), before,
     "and leaves the last error as it was");

  is(weft_socket_getfqdn("localhost", b, sizeof b, &blen), 0,
     "getfqdn(localhost)");
  ok(blen > 0, "is not empty (%s)", b);

  size_t want = len;
  is(weft_socket_getfqdn(NULL, b, want, &len), WEFT_ERANGE,
     "a buffer without room for the NUL is ERANGE");
  is(len, want, "with the full length");
  char *exact = malloc(len + 1);
  is(weft_socket_getfqdn(NULL, exact, len + 1, &len), 0,
     "the retry with len + 1 bytes succeeds");
  ok(strcmp(exact, a) == 0, "and gives the same name");
  free(exact);
  is(weft_socket_getfqdn(NULL, b, sizeof b, NULL), WEFT_EVALUE,
     "a NULL len is EVALUE");
}

/* ---- services and protocols ---- */

static void test_services_db(void) {
  int port = -1;
  is(weft_socket_getservbyname("http", "tcp", &port), 0,
     "getservbyname(http, tcp)");
  is(port, 80, "is 80");
  port = -1;
  is(weft_socket_getservbyname("http", NULL, &port), 0,
     "getservbyname(http, any proto)");
  is(port, 80, "is 80");
  is(weft_socket_getservbyname("no-such-service", "tcp", &port), -ENOENT,
     "an unknown service is -ENOENT");
  ok(strstr(weft_last_error_message(), "service/proto not found") != NULL,
     "saying service/proto not found: %s", weft_last_error_message());
  is(weft_socket_getservbyname(NULL, "tcp", &port), WEFT_EVALUE,
     "a NULL name is EVALUE");
  is(weft_socket_getservbyname("http", "tcp", NULL), WEFT_EVALUE,
     "a NULL port is EVALUE");

  char buf[64];
  size_t len = 0;
  is(weft_socket_getservbyport(80, "tcp", buf, sizeof buf, &len), 0,
     "getservbyport(80, tcp)");
  ok(strcmp(buf, "http") == 0 && len == 4, "is http");
  is(weft_socket_getservbyport(80, NULL, buf, sizeof buf, &len), 0,
     "getservbyport(80, any proto)");
  ok(strcmp(buf, "http") == 0, "is http");
  is(weft_socket_getservbyport(443, "tcp", buf, sizeof buf, &len), 0,
     "getservbyport(443, tcp)");
  port = -1;
  is(weft_socket_getservbyname(buf, "tcp", &port), 0,
     "getservbyname of its name (%s)", buf);
  is(port, 443, "round-trips to 443");
  is(weft_socket_getservbyport(80, "tcp", buf, 4, &len), WEFT_ERANGE,
     "a buffer without room for the NUL is ERANGE");
  is(len, 4, "with len 4");
  char exact[5];
  is(weft_socket_getservbyport(80, "tcp", exact, len + 1, &len), 0,
     "the retry with len + 1 bytes succeeds");
  ok(strcmp(exact, "http") == 0, "and gives http");
  is(weft_socket_getservbyport(70000, "tcp", buf, sizeof buf, &len),
     WEFT_EVALUE, "port 70000 is EVALUE");
  ok(strcmp(weft_last_error_message(),
            "socket_getservbyport: port must be 0-65535, not 70000") == 0,
     "the message says the range: %s", weft_last_error_message());
  is(weft_socket_getservbyport(-1, "tcp", buf, sizeof buf, &len),
     WEFT_EVALUE, "port -1 is EVALUE");
  is(weft_socket_getservbyport(0, "tcp", buf, sizeof buf, &len), -ENOENT,
     "port 0 has no service: -ENOENT");
  ok(strstr(weft_last_error_message(), "port/proto not found") != NULL,
     "saying port/proto not found: %s", weft_last_error_message());
  is(weft_socket_getservbyport(80, "no-such-proto", buf, sizeof buf, &len),
     -ENOENT, "an unknown proto is -ENOENT");
  is(weft_socket_getservbyport(80, "tcp", buf, sizeof buf, NULL),
     WEFT_EVALUE, "a NULL len is EVALUE");

  int proto = -1;
  is(weft_socket_getprotobyname("tcp", &proto), 0, "getprotobyname(tcp)");
  is(proto, IPPROTO_TCP, "is IPPROTO_TCP");
  is(weft_socket_getprotobyname("udp", &proto), 0, "getprotobyname(udp)");
  is(proto, IPPROTO_UDP, "is IPPROTO_UDP");
  is(weft_socket_getprotobyname("no-such-protocol", &proto), -ENOENT,
     "an unknown protocol is -ENOENT");
  ok(strstr(weft_last_error_message(), "protocol not found") != NULL,
     "saying protocol not found: %s", weft_last_error_message());
  is(weft_socket_getprotobyname(NULL, &proto), WEFT_EVALUE,
     "a NULL name is EVALUE");
  is(weft_socket_getprotobyname("tcp", NULL), WEFT_EVALUE,
     "a NULL proto is EVALUE");
}

int main(void) {
  test_numeric();
  test_filters();
  test_localhost();
  test_canonname();
  test_numerichost();
  test_unknown_host();
  test_services();
  test_arguments();
  test_getnameinfo();
  test_gethostbyname();
  test_gethostbyname_ex();
  test_gethostbyaddr();
  test_gethostname();
  test_getfqdn();
  test_services_db();
  return done_testing();
}
