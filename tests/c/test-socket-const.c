/* test-socket-const.c - the socket and select modules' constants: present
 * with the platform's values, absent where the platform lacks them, and
 * enumerable without duplicates. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#ifdef __has_include
#if __has_include(<linux/tipc.h>)
#include <linux/tipc.h>
#endif
#if __has_include(<linux/vm_sockets.h>)
#include <linux/vm_sockets.h>
#endif
#if __has_include(<linux/can/j1939.h>)
#include <linux/can/j1939.h>
#define HAVE_J1939 1
#endif
#endif

#include "tap.h"

static int64_t value_of(const char *name, weft_status *st) {
  int64_t v = INT64_MIN;
  *st = weft_constant_get(name, &v);
  return v;
}

#define HAS(name)                                                            \
  do {                                                                       \
    weft_status st_;                                                         \
    int64_t v_ = value_of(#name, &st_);                                      \
    ok(st_ == 0 && v_ == (int64_t)(name), #name " is %lld (%lld)",           \
       (long long)(name), (long long)v_);                                    \
  } while (0)

static void test_present(void) {
  HAS(AF_INET);
  HAS(AF_INET6);
  HAS(AF_UNIX);
  HAS(AF_UNSPEC);
  HAS(SOCK_STREAM);
  HAS(SOCK_DGRAM);
  HAS(SOCK_NONBLOCK);
  HAS(SOCK_CLOEXEC);
  HAS(SOCK_RDM);
  HAS(SO_REUSEADDR);
  HAS(SO_ERROR);
  HAS(SOL_SOCKET);
  HAS(SCM_RIGHTS);
  HAS(IPPROTO_TCP);
  HAS(IPPROTO_UDP);
  HAS(IPPROTO_IPV6);
  HAS(IPPORT_RESERVED);
  HAS(IPPORT_USERRESERVED);
  HAS(IP_TTL);
  HAS(IPV6_V6ONLY);
  HAS(TCP_NODELAY);
  HAS(MSG_PEEK);
  HAS(MSG_NOSIGNAL);
  HAS(AI_PASSIVE);
  HAS(AI_CANONNAME);
  HAS(NI_NUMERICHOST);
  HAS(NI_MAXHOST);
  HAS(NI_MAXSERV);
  HAS(EAI_NONAME);
  HAS(EAI_SYSTEM);
  HAS(SHUT_RD);
  HAS(SHUT_RDWR);
  HAS(SOMAXCONN);
  HAS(POLLIN);
  HAS(POLLRDHUP);
  HAS(EPOLLIN);
  HAS(EPOLLONESHOT);
}

static void test_values(void) {
  weft_status st;
  is(value_of("EPOLLET", &st), 2147483648LL,
     "EPOLLET is 2147483648, not negative");
  is(value_of("EPOLLONESHOT", &st), 1LL << 30, "EPOLLONESHOT is 1 << 30");
  is(value_of("INADDR_LOOPBACK", &st), 0x7f000001,
     "INADDR_LOOPBACK is in host order");
  is(value_of("INADDR_NONE", &st), 4294967295LL,
     "INADDR_NONE is 4294967295, not negative");
  is(value_of("INADDR_ANY", &st), 0, "INADDR_ANY is 0");
  is(value_of("EAI_NONAME", &st), EAI_NONAME,
     "EAI_NONAME keeps its sign (%d)", EAI_NONAME);
  is(value_of("NI_MAXHOST", &st), 1025, "NI_MAXHOST is 1025");
  is(value_of("NI_MAXSERV", &st), 32, "NI_MAXSERV is 32");
  is(value_of("WEFT_SOCKADDR_MAX", &st), 128, "WEFT_SOCKADDR_MAX is 128");
  is(value_of("WEFT_POLLER_POLL", &st), WEFT_POLLER_POLL,
     "WEFT_POLLER_POLL is there");
}

/* Names from the Linux headers weft includes where they exist. */
static void test_linux_headers(void) {
#ifdef TIPC_ADDR_ID
  HAS(TIPC_ADDR_ID);
  HAS(TIPC_NODE_SCOPE); /* an enumerator */
#endif
#ifdef SO_VM_SOCKETS_BUFFER_SIZE
  HAS(SO_VM_SOCKETS_BUFFER_SIZE);
#endif
#ifdef HAVE_J1939
  HAS(SO_J1939_FILTER); /* an enumerator */
  HAS(SCM_J1939_DEST_ADDR);
#endif
  HAS(SOL_UDP); /* <netinet/udp.h> */
}

static void test_absent(void) {
  int64_t v = 42;
  is(weft_constant_get("SIO_RCVALL", &v), -ENOENT,
     "SIO_RCVALL (Windows only) is -ENOENT");
  is(v, 42, "the value is untouched");
  is(weft_constant_get("RCVALL_ON", &v), -ENOENT,
     "RCVALL_ON (Windows only) is -ENOENT");
  is(weft_constant_get("PF_INET", &v), -ENOENT,
     "PF_INET is not there (AF_* only)");
  is(weft_constant_get("AF_NO_SUCH_FAMILY", &v), -ENOENT,
     "an unknown name is -ENOENT");
  is(weft_constant_get("IP_MSFILTER_SIZE", &v), -ENOENT,
     "IP_MSFILTER_SIZE (a function-like macro) is not there");
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_enumeration(void) {
  size_t n = weft_constant_count();
  ok(n > 500, "there are many constants (%zu)", n);
  char **names = calloc(n, sizeof *names);
  size_t got = 0, round_trip = 0;
  for (size_t i = 0; i < n; i++) {
    char name[128];
    size_t len;
    int64_t v, w = INT64_MIN;
    if (weft_constant_at(i, name, sizeof name, &len, &v) != 0)
      continue;
    names[got++] = strdup(name);
    if (weft_constant_get(name, &w) == 0 && w == v)
      round_trip++;
  }
  is(got, n, "constant_at gives every index below count");
  is(round_trip, n, "constant_get of each name gives the value at its index");
  qsort(names, got, sizeof *names, cmp_str);
  size_t dups = 0;
  for (size_t i = 1; i < got; i++)
    if (strcmp(names[i - 1], names[i]) == 0) {
      if (dups++ < 5)
        diag("duplicate: %s", names[i]);
    }
  is(dups, 0, "no name appears twice across the whole table set");
  for (size_t i = 0; i < got; i++)
    free(names[i]);
  free(names);

  char name[8];
  size_t len;
  int64_t v;
  is(weft_constant_at(n, name, sizeof name, &len, &v), -ENOENT,
     "constant_at(count) is -ENOENT");
}

/* The socket table is in one piece, grouped by prefix: AF_UNSPEC before
 * AF_INET, all AF_* before SOCK_STREAM, and weft's own last of it. */
static size_t index_of(const char *want) {
  size_t n = weft_constant_count();
  for (size_t i = 0; i < n; i++) {
    char name[128];
    size_t len;
    int64_t v;
    if (weft_constant_at(i, name, sizeof name, &len, &v) == 0 &&
        strcmp(name, want) == 0)
      return i;
  }
  return SIZE_MAX;
}

static void test_order(void) {
  size_t unspec = index_of("AF_UNSPEC"), inet = index_of("AF_INET"),
         stream = index_of("SOCK_STREAM"), peek = index_of("MSG_PEEK"),
         pollin = index_of("POLLIN"), epollin = index_of("EPOLLIN"),
         max = index_of("WEFT_SOCKADDR_MAX");
  ok(unspec < inet && inet < stream, "AF_* come first, in CPython's order");
  ok(stream < peek && peek < pollin, "then SOCK_*, .., MSG_*, .., POLL*");
  ok(pollin < epollin && epollin < max, "then EPOLL*, then weft's own");
  int grouped = 1;
  size_t n = weft_constant_count();
  for (size_t i = inet; i < n; i++) {
    char name[128];
    size_t len;
    int64_t v;
    weft_constant_at(i, name, sizeof name, &len, &v);
    if (strncmp(name, "AF_", 3) != 0) {
      for (size_t j = i + 1; j < n; j++) {
        weft_constant_at(j, name, sizeof name, &len, &v);
        grouped = grouped && strncmp(name, "AF_", 3) != 0;
      }
      break;
    }
  }
  ok(grouped, "no AF_* name comes after the AF_* group");
}

int main(void) {
  test_present();
  test_values();
  test_linux_headers();
  test_absent();
  test_enumeration();
  test_order();
  return done_testing();
}
