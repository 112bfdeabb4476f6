/* bench_empty.c - the baselines of bench-lua: a C function that does
 * nothing, called from Lua the way the binding's functions are; and for
 * bench_socket.lua a TCP loopback ping-pong written in C with raw system
 * calls at both ends, and a C echo peer for Lua clients. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

static int noop(lua_State *L) {
  (void)L;
  return 0;
}

/* The same empty function with a plain C signature, which bench_ffi.lua
 * calls through weft.ffi. */
int bench_empty_noop(void *arg);
int bench_empty_noop(void *arg) {
  (void)arg;
  return 0;
}

/* ---- the ping-pong ---- */

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t r = write(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static int read_all(int fd, char *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static void nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Echo on fd until the peer closes (a blocking descriptor of ours). */
static void *echo(void *arg) {
  int fd = (int)(intptr_t)arg;
  char buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0 || write_all(fd, buf, (size_t)r) < 0)
      break;
  }
  close(fd);
  return NULL;
}

static void *accept_echo(void *arg) {
  int ls = (int)(intptr_t)arg;
  int fd = accept(ls, NULL, NULL);
  close(ls);
  if (fd >= 0) {
    nodelay(fd);
    echo((void *)(intptr_t)fd);
  }
  return NULL;
}

static int connect_port(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    close(fd);
    return -1;
  }
  nodelay(fd);
  return fd;
}

/* echo_connect(port): a C thread connects to 127.0.0.1:port and sends
 * back what it receives until the peer closes. */
static int echo_connect(lua_State *L) {
  int fd = connect_port((int)luaL_checkinteger(L, 1));
  pthread_t t;
  if (fd < 0)
    return luaL_error(L, "echo_connect: %s", strerror(errno));
  if (pthread_create(&t, NULL, echo, (void *)(intptr_t)fd) != 0) {
    close(fd);
    return luaL_error(L, "echo_connect: no thread");
  }
  pthread_detach(t);
  return 0;
}

/* pingpong(n, size) -> seconds for n round trips of size bytes between a
 * C client and a C echo thread over TCP on 127.0.0.1. */
static int pingpong(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  size_t size = (size_t)luaL_checkinteger(L, 2);
  char buf[65536];
  if (size == 0 || size > sizeof buf)
    return luaL_error(L, "pingpong: size must be 1..%d", (int)sizeof buf);
  memset(buf, 'x', size);
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 ||
      listen(ls, 1) < 0 || getsockname(ls, (struct sockaddr *)&a, &alen) < 0)
    return luaL_error(L, "pingpong: %s", strerror(errno));
  pthread_t t;
  if (pthread_create(&t, NULL, accept_echo, (void *)(intptr_t)ls) != 0)
    return luaL_error(L, "pingpong: no thread");
  int c = connect_port(ntohs(a.sin_port));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int failed = c < 0;
  for (lua_Integer i = 0; i < n && !failed; i++)
    failed = write_all(c, buf, size) < 0 || read_all(c, buf, size) < 0;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (c >= 0)
    close(c);
  pthread_join(t, NULL);
  if (failed)
    return luaL_error(L, "pingpong: the connection failed");
  lua_pushnumber(L, (double)(t1.tv_sec - t0.tv_sec) +
                        (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
  return 1;
}

int luaopen_bench_empty(lua_State *L);

int luaopen_bench_empty(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, noop);
  lua_setfield(L, -2, "noop");
  lua_pushcfunction(L, echo_connect);
  lua_setfield(L, -2, "echo_connect");
  lua_pushcfunction(L, pingpong);
  lua_setfield(L, -2, "pingpong");
  return 1;
}
