/* test-sockaddr.c - addresses as bytes (weft_sockaddr_make/parse), the
 * inet_* helpers and byte order. */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "socket-util.h"

static void test_inet(void) {
  addr a;
  is(mk_addr(AF_INET, "127.0.0.1", 8080, &a), 0, "AF_INET from a numeric host");
  is(a.len, sizeof(struct sockaddr_in), "is a sockaddr_in");
  struct sockaddr_in in;
  memcpy(&in, a.b, sizeof in);
  ok(in.sin_family == AF_INET && ntohs(in.sin_port) == 8080 &&
         in.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
     "with the family, port and address in network order");

  is(mk_addr(AF_INET, "", 80, &a), 0, "'' is accepted");
  memcpy(&in, a.b, sizeof in);
  ok(in.sin_addr.s_addr == htonl(INADDR_ANY), "'' is INADDR_ANY");
  is(mk_addr(AF_INET, "<broadcast>", 80, &a), 0, "'<broadcast>' is accepted");
  memcpy(&in, a.b, sizeof in);
  ok(in.sin_addr.s_addr == htonl(INADDR_BROADCAST),
     "'<broadcast>' is INADDR_BROADCAST");
  is(mk_addr(AF_INET, "localhost", 7, &a), 0, "a host name is resolved");
  memcpy(&in, a.b, sizeof in);
  ok((ntohl(in.sin_addr.s_addr) >> 24) == 127, "localhost is a 127/8 address");

  int family, port;
  uint32_t flow, scope;
  char host[64];
  size_t hl;
  mk_addr(AF_INET, "10.1.2.3", 65535, &a);
  is(weft_sockaddr_parse(a.b, a.len, &family, host, sizeof host, &hl, &port,
                         &flow, &scope),
     0, "parse an AF_INET address");
  ok(family == AF_INET && strcmp(host, "10.1.2.3") == 0 && hl == 8 &&
         port == 65535 && flow == 0 && scope == 0,
     "gives family, numeric host, port (got %s:%d)", host, port);
  is(weft_sockaddr_parse(a.b, a.len, &family, host, 4, &hl, &port, &flow,
                         &scope),
     WEFT_ERANGE, "a small host buffer is WEFT_ERANGE");
  ok(hl == 8 && port == 65535 && family == AF_INET,
     "with the length and the other outputs set");
}

static void test_inet6(void) {
  addr a;
  is(mk_addr(AF_INET6, "::1", 443, &a), 0, "AF_INET6 from a numeric host");
  is(a.len, sizeof(struct sockaddr_in6), "is a sockaddr_in6");
  unsigned char b[WEFT_SOCKADDR_MAX];
  size_t len;
  is(weft_sockaddr_make(AF_INET6, "fe80::1", 7, 9, 0xabcde, 3, b, sizeof b,
                        &len),
     0, "flowinfo and scope_id are accepted");
  int family, port;
  uint32_t flow, scope;
  char host[64];
  size_t hl;
  is(weft_sockaddr_parse(b, len, &family, host, sizeof host, &hl, &port,
                         &flow, &scope),
     0, "parse an AF_INET6 address");
  ok(family == AF_INET6 && strcmp(host, "fe80::1") == 0 && port == 9 &&
         flow == 0xabcde && scope == 3,
     "flowinfo and scope_id round trip (got %s %u %u)", host, flow, scope);
  is(weft_sockaddr_make(AF_INET6, "fe80::1%lo", 10, 9, 0, 0, b, sizeof b,
                        &len),
     0, "a zone is accepted");
  weft_sockaddr_parse(b, len, &family, host, sizeof host, &hl, &port, &flow,
                      &scope);
  ok(scope == if_nametoindex("lo") && strcmp(host, "fe80::1") == 0,
     "and sets scope_id (got %u)", scope);
  is(weft_sockaddr_make(AF_INET6, "::", 2, 1, 0x100000, 0, b, sizeof b, &len),
     WEFT_EVALUE, "flowinfo >= 2^20 is WEFT_EVALUE");
  is(mk_addr(AF_INET6, "", 0, &a), 0, "'' is in6addr_any");
}

static void test_unix(void) {
  unsigned char b[WEFT_SOCKADDR_MAX];
  size_t len;
  const char *path = "/tmp/weft-sock";
  is(weft_sockaddr_make(AF_UNIX, path, strlen(path), 0, 0, 0, b, sizeof b,
                        &len),
     0, "AF_UNIX from a path");
  is(len, offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1,
     "its length counts the path's NUL");
  int family, port;
  uint32_t flow, scope;
  char host[200];
  size_t hl;
  weft_sockaddr_parse(b, len, &family, host, sizeof host, &hl, &port, &flow,
                      &scope);
  ok(family == AF_UNIX && hl == strlen(path) && strcmp(host, path) == 0,
     "a path parses back");

  const char abs_name[] = "\0weft\0abstract";
  is(weft_sockaddr_make(AF_UNIX, abs_name, sizeof abs_name - 1, 0, 0, 0, b,
                        sizeof b, &len),
     0, "an abstract name with NULs");
  is(len, offsetof(struct sockaddr_un, sun_path) + sizeof abs_name - 1,
     "fills exactly its bytes");
  weft_sockaddr_parse(b, len, &family, host, sizeof host, &hl, &port, &flow,
                      &scope);
  ok(hl == sizeof abs_name - 1 && memcmp(host, abs_name, hl) == 0,
     "an abstract name parses back whole, NULs included");

  char longp[200];
  memset(longp, 'x', sizeof longp);
  is(weft_sockaddr_make(AF_UNIX, longp, 108, 0, 0, 0, b, sizeof b, &len),
     WEFT_EVALUE, "a path of 108 bytes is too long (no room for its NUL)");
  is(weft_sockaddr_make(AF_UNIX, longp, 107, 0, 0, 0, b, sizeof b, &len), 0,
     "107 bytes fit");
  longp[0] = '\0';
  is(weft_sockaddr_make(AF_UNIX, longp, 108, 0, 0, 0, b, sizeof b, &len), 0,
     "an abstract name may use all 108");
  is(weft_sockaddr_make(AF_UNIX, longp, 109, 0, 0, 0, b, sizeof b, &len),
     WEFT_EVALUE, "but not 109");
  is(weft_sockaddr_make(AF_UNIX, path, strlen(path), 80, 0, 0, b, sizeof b,
                        &len),
     WEFT_EVALUE, "AF_UNIX with a port is WEFT_EVALUE");
  is(weft_sockaddr_make(AF_UNIX, "", 0, 0, 0, 0, b, sizeof b, &len), 0,
     "an empty AF_UNIX address (autobind)");
  is(len, offsetof(struct sockaddr_un, sun_path), "is just the family");
}

static void test_bad(void) {
  addr a;
  unsigned char b[WEFT_SOCKADDR_MAX];
  size_t len = 0;
  is(mk_addr(AF_INET, "127.0.0.1", 65536, &a), WEFT_EVALUE,
     "port 65536 is WEFT_EVALUE");
  ok(strstr(weft_last_error_message(), "0-65535") != NULL,
     "the message gives the range (%s)", weft_last_error_message());
  is(mk_addr(AF_INET, "127.0.0.1", -1, &a), WEFT_EVALUE,
     "port -1 is WEFT_EVALUE");
  is(mk_addr(AF_INET, "no-such-host.invalid", 1, &a), WEFT_EGAI,
     "an unknown host is WEFT_EGAI");
  ok(weft_last_error_detail() != 0, "with the EAI code as detail (%d)",
     weft_last_error_detail());
  is(mk_addr(AF_INET, "1.2.3.4.5", 1, &a), WEFT_EGAI,
     "a malformed address is not resolved either");
  is(weft_sockaddr_make(AF_INET, "127.0.0.1", 9, 1, 5, 0, b, sizeof b, &len),
     WEFT_EVALUE, "AF_INET with flowinfo is WEFT_EVALUE");
  is(weft_sockaddr_make(AF_INET, "a\0b", 3, 1, 0, 0, b, sizeof b, &len),
     WEFT_EVALUE, "a host with a NUL is WEFT_EVALUE");
  is(weft_sockaddr_make(AF_APPLETALK, "x", 1, 0, 0, 0, b, sizeof b, &len),
     -EAFNOSUPPORT, "another family is -EAFNOSUPPORT");
  is(weft_sockaddr_make(AF_INET, "1.1.1.1", 7, 1, 0, 0, b, 16, &len),
     WEFT_ERANGE, "an address buffer under WEFT_SOCKADDR_MAX is WEFT_ERANGE");
  is(len, WEFT_SOCKADDR_MAX, "and says how big it must be");
  is(weft_sockaddr_make(AF_INET, NULL, 3, 1, 0, 0, b, sizeof b, &len),
     WEFT_EVALUE, "a NULL host with a length is WEFT_EVALUE");
  is(weft_sockaddr_make(AF_INET, "x", SIZE_MAX, 1, 0, 0, b, sizeof b, &len),
     WEFT_EVALUE, "a negative host length is WEFT_EVALUE");
  is(weft_sockaddr_make(AF_INET, "x", 1, 1, 0, 0, b, sizeof b, NULL),
     WEFT_EVALUE, "a NULL addr_len is WEFT_EVALUE");

  int family, port;
  uint32_t flow, scope;
  char host[64];
  size_t hl;
  mk_addr(AF_INET, "127.0.0.1", 1, &a);
  is(weft_sockaddr_parse(a.b, 4, &family, host, sizeof host, &hl, &port,
                         &flow, &scope),
     WEFT_EVALUE, "parsing a truncated sockaddr_in is WEFT_EVALUE");
  is(weft_sockaddr_parse(NULL, 16, &family, host, sizeof host, &hl, &port,
                         &flow, &scope),
     WEFT_EVALUE, "parsing NULL is WEFT_EVALUE");
  is(weft_sockaddr_parse(a.b, 1000, &family, host, sizeof host, &hl, &port,
                         &flow, &scope),
     WEFT_EVALUE, "a length above WEFT_SOCKADDR_MAX is WEFT_EVALUE");
  struct sockaddr sa = {.sa_family = AF_APPLETALK};
  is(weft_sockaddr_parse(&sa, sizeof sa, &family, host, sizeof host, &hl,
                         &port, &flow, &scope),
     -EAFNOSUPPORT, "parsing another family is -EAFNOSUPPORT");
  is(family, AF_APPLETALK, "with *family set");
}

static void test_inet_helpers(void) {
  unsigned char b[16];
  size_t n;
  char text[64];
  size_t tl;
  is(weft_socket_inet_aton("127.1", b, sizeof b, &n), 0,
     "inet_aton takes inet_aton(3)'s short forms");
  ok(n == 4 && b[0] == 127 && b[3] == 1, "127.1 is 127.0.0.1");
  is(weft_socket_inet_aton("300.1.1.1", b, sizeof b, &n), WEFT_EVALUE,
     "inet_aton refuses 300.1.1.1");
  is(weft_socket_inet_aton("1.2.3.4", b, 3, &n), WEFT_ERANGE,
     "inet_aton with 3 bytes of room is WEFT_ERANGE");
  b[0] = 10, b[1] = 0, b[2] = 0, b[3] = 7;
  is(weft_socket_inet_ntoa(b, 4, text, sizeof text, &tl), 0, "inet_ntoa");
  ok(strcmp(text, "10.0.0.7") == 0 && tl == 8, "gives 10.0.0.7");
  is(weft_socket_inet_ntoa(b, 5, text, sizeof text, &tl), WEFT_EVALUE,
     "inet_ntoa of 5 bytes is WEFT_EVALUE");
  is(weft_socket_inet_pton(AF_INET6, "2001:db8::1", b, sizeof b, &n), 0,
     "inet_pton AF_INET6");
  is(n, 16, "gives 16 bytes");
  is(weft_socket_inet_ntop(AF_INET6, b, 16, text, sizeof text, &tl), 0,
     "inet_ntop AF_INET6");
  ok(strcmp(text, "2001:db8::1") == 0, "round trips (%s)", text);
  is(weft_socket_inet_pton(AF_INET6, "2001:::1", b, sizeof b, &n),
     WEFT_EVALUE, "inet_pton refuses a malformed address");
  is(weft_socket_inet_pton(AF_UNIX, "x", b, sizeof b, &n), -EAFNOSUPPORT,
     "inet_pton of AF_UNIX is -EAFNOSUPPORT");
  is(weft_socket_inet_ntop(AF_INET, b, 16, text, sizeof text, &tl),
     WEFT_EVALUE, "inet_ntop AF_INET of 16 bytes is WEFT_EVALUE");

  int64_t v;
  is(weft_socket_htons(0x1234, &v), 0, "htons");
  is(v, htons(0x1234), "swaps as htons(3)");
  is(weft_socket_htonl(0x12345678, &v), 0, "htonl");
  is(v, htonl(0x12345678), "swaps as htonl(3)");
  is(weft_socket_ntohl(htonl(7), &v), 0, "ntohl");
  is(v, 7, "undoes htonl");
  is(weft_socket_ntohs(htons(7), &v), 0, "ntohs");
  is(v, 7, "undoes htons");
  is(weft_socket_htons(65536, &v), WEFT_EVALUE, "htons(65536) is WEFT_EVALUE");
  is(weft_socket_htons(-1, &v), WEFT_EVALUE, "htons(-1) is WEFT_EVALUE");
  is(weft_socket_htonl((int64_t)1 << 32, &v), WEFT_EVALUE,
     "htonl(2^32) is WEFT_EVALUE");
  is(weft_socket_htonl(1, NULL), WEFT_EVALUE, "a NULL out is WEFT_EVALUE");

  int has = -1;
  is(weft_socket_has_ipv6(&has), 0, "has_ipv6");
  ok(has == 0 || has == 1, "is 0 or 1 (%d)", has);
}

int main(void) {
  test_inet();
  test_inet6();
  test_unix();
  test_bad();
  test_inet_helpers();
  return done_testing();
}
