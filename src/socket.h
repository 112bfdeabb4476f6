/* socket.h - what the socket kind shares with the other areas (internal).
 *
 * socket.c owns the socket kind; sockaddr.c the address codec; resolve.c
 * name resolution (the addrinfo kind); stream.c makes streams over a
 * socket's descriptor (weft_socket_makefile).
 */
#ifndef WEFT_SOCKET_H
#define WEFT_SOCKET_H

#include <stddef.h>
#include <sys/socket.h>

#include "weft.h"

/* A socket's descriptor and timeout, for weft_socket_makefile (pinned by
 * the caller). */
void weft__socket_fd_timeout(void *obj, int *fd, double *timeout);

/* Format addr as "127.0.0.1:80", "[::1]:80", "/path", "@abstract" or
 * "<family 17>" into buf (always NUL-terminated), for error messages. */
void weft__sockaddr_text(const void *addr, size_t addr_len, char *buf,
                         size_t cap);

/* Check an input address: WEFT_EVALUE (recorded, "<what>: ...") for NULL,
 * a length below the family's minimum or above WEFT_SOCKADDR_MAX. */
weft_status weft__sockaddr_check(const void *addr, size_t addr_len,
                                 const char *what);

/* Check an output address buffer (NULL with cap 0 is "not wanted"):
 * WEFT_ERANGE with *len = WEFT_SOCKADDR_MAX when it is too small, and
 * WEFT_EVALUE for a NULL len. */
weft_status weft__sockaddr_out_check(void *addr, size_t cap, size_t *len,
                                     const char *what);

/* Copy a kernel address of `len` bytes to a checked output buffer. */
void weft__sockaddr_out(const struct sockaddr_storage *ss, socklen_t len,
                        void *addr, size_t cap, size_t *out_len);

/* A port given as text, for getaddrinfo(3): one that is a number (all
 * digits after a sign) must be 0..65535 (WEFT_EVALUE, recorded,
 * "<what>: port must be 0-65535, not 70000"), where getaddrinfo would
 * wrap it; anything else is a service name, left to getaddrinfo. */
weft_status weft__port_check(const char *port, const char *what);

/* Record a resolver failure: WEFT_EGAI with the EAI code as detail and
 * gai_strerror's text ("<what> <name>: Name or service not known"), or
 * -errno for EAI_SYSTEM (and EAI_MEMORY: -ENOMEM). */
weft_status weft__gai_error(int eai, const char *what, const char *name);

#endif
