/* socket_const.c - the socket and select modules' platform constants.
 *
 * Every name the platform defines among AF_*, SOCK_*, SO_*, SOL_*, SCM_*,
 * MSG_*, IPPROTO_*, IPPORT_*, INADDR_*, IP_*, IPV6_*, TCP_*, TIPC_*, EAI_*,
 * AI_*, NI_*, SHUT_*, SOMAXCONN, SIO_* and RCVALL_* (Windows), and the
 * select module's POLL* and EPOLL* names, with the platform's values.
 *
 * Each group lists first the names CPython's socketmodule.c exposes, in
 * its order, then the other names this platform's headers define in the
 * group (taken from glibc 2.36 and Linux 6.1 headers).  Each entry is
 * guarded by #ifdef of its own name, so a name appears exactly where the
 * platform defines it (glibc defines its enumerators as macros of the same
 * name too: `#define MSG_PEEK MSG_PEEK`).  The few that are only
 * enumerators are guarded by their header instead.  Unlike CPython, no
 * name gets a made-up value where the platform lacks it (CPython invents
 * SOL_TCP, SOMAXCONN, INADDR_* and a few more), except EPOLLET and
 * EPOLLONESHOT, which weft's poll(2) poller emulates everywhere.
 *
 * Left out on purpose: IP_MSFILTER_SIZE (a function-like macro), SCM_SRCRT
 * (glibc defines it as IPV6_RXSRCRT, which nothing defines), the IDN
 * flags glibc deprecated (AI_IDN_ALLOW_UNASSIGNED,
 * AI_IDN_USE_STD3_ASCII_RULES and their NI_ twins: every use warns, and
 * they do nothing), and enumerators without a macro that CPython does not
 * expose either (the TCP_ESTABLISHED.. states, IPPORT_ECHO..).
 *
 * The order of this table is the enumeration order (weft_constant_at), so
 * keep it: add a name at the end of its group. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __has_include
#if __has_include(<sys/epoll.h>)
#include <sys/epoll.h>
#endif
#if __has_include(<linux/tipc.h>)
#include <linux/tipc.h>
#define WEFT__HAVE_TIPC 1
#endif
#if __has_include(<linux/vm_sockets.h>)
#include <linux/vm_sockets.h>
#endif
#if __has_include(<linux/can.h>)
#include <linux/can.h>
#endif
#if __has_include(<linux/can/raw.h>)
#include <linux/can/raw.h>
#endif
#if __has_include(<linux/can/j1939.h>)
#include <linux/can/j1939.h>
#define WEFT__HAVE_J1939 1
#endif
#endif

/* glibc has IPPORT_USERRESERVED only as an enumerator of <netinet/in.h>. */
#if defined(IPPORT_USERRESERVED) || defined(__GLIBC__)
#define WEFT__HAVE_IPPORT_USERRESERVED 1
#endif

/* weft's poll(2) poller takes these two where there is no epoll. */
#ifndef EPOLLET
#define EPOLLET (1u << 31)
#endif
#ifndef EPOLLONESHOT
#define EPOLLONESHOT (1u << 30)
#endif

#include "constant.h"
#include "weft.h"

/* Event bits are a uint32_t mask: EPOLLET (1u << 31) is 2147483648, not
 * negative. */
#define WEFT__UCONST(name) { #name, (int64_t)(uint32_t)(name) }

static const weft__constant socket_constants[] = {
    /* ---- address families ---- */
#ifdef AF_UNSPEC
    WEFT__CONST(AF_UNSPEC),
#endif
#ifdef AF_INET
    WEFT__CONST(AF_INET),
#endif
#ifdef AF_UNIX
    WEFT__CONST(AF_UNIX),
#endif
#ifdef AF_AX25
    WEFT__CONST(AF_AX25),
#endif
#ifdef AF_IPX
    WEFT__CONST(AF_IPX),
#endif
#ifdef AF_APPLETALK
    WEFT__CONST(AF_APPLETALK),
#endif
#ifdef AF_NETROM
    WEFT__CONST(AF_NETROM),
#endif
#ifdef AF_BRIDGE
    WEFT__CONST(AF_BRIDGE),
#endif
#ifdef AF_ATMPVC
    WEFT__CONST(AF_ATMPVC),
#endif
#ifdef AF_AAL5
    WEFT__CONST(AF_AAL5),
#endif
#ifdef AF_ALG
    WEFT__CONST(AF_ALG),
#endif
#ifdef AF_X25
    WEFT__CONST(AF_X25),
#endif
#ifdef AF_INET6
    WEFT__CONST(AF_INET6),
#endif
#ifdef AF_ROSE
    WEFT__CONST(AF_ROSE),
#endif
#ifdef AF_DECnet
    WEFT__CONST(AF_DECnet),
#endif
#ifdef AF_NETBEUI
    WEFT__CONST(AF_NETBEUI),
#endif
#ifdef AF_SECURITY
    WEFT__CONST(AF_SECURITY),
#endif
#ifdef AF_KEY
    WEFT__CONST(AF_KEY),
#endif
#ifdef AF_NETLINK
    WEFT__CONST(AF_NETLINK),
#endif
#ifdef AF_QIPCRTR
    WEFT__CONST(AF_QIPCRTR),
#endif
#ifdef AF_VSOCK
    WEFT__CONST(AF_VSOCK),
#endif
#ifdef AF_ROUTE
    WEFT__CONST(AF_ROUTE),
#endif
#ifdef AF_LINK
    WEFT__CONST(AF_LINK),
#endif
#ifdef AF_ASH
    WEFT__CONST(AF_ASH),
#endif
#ifdef AF_ECONET
    WEFT__CONST(AF_ECONET),
#endif
#ifdef AF_ATMSVC
    WEFT__CONST(AF_ATMSVC),
#endif
#ifdef AF_SNA
    WEFT__CONST(AF_SNA),
#endif
#ifdef AF_IRDA
    WEFT__CONST(AF_IRDA),
#endif
#ifdef AF_PPPOX
    WEFT__CONST(AF_PPPOX),
#endif
#ifdef AF_WANPIPE
    WEFT__CONST(AF_WANPIPE),
#endif
#ifdef AF_LLC
    WEFT__CONST(AF_LLC),
#endif
#ifdef AF_HYPERV
    WEFT__CONST(AF_HYPERV),
#endif
#ifdef AF_BLUETOOTH
    WEFT__CONST(AF_BLUETOOTH),
#endif
#ifdef AF_CAN
    WEFT__CONST(AF_CAN),
#endif
#ifdef AF_RDS
    WEFT__CONST(AF_RDS),
#endif
#ifdef AF_SYSTEM
    WEFT__CONST(AF_SYSTEM),
#endif
#ifdef AF_DIVERT
    WEFT__CONST(AF_DIVERT),
#endif
#ifdef AF_PACKET
    WEFT__CONST(AF_PACKET),
#endif
#ifdef AF_TIPC
    WEFT__CONST(AF_TIPC),
#endif
    /* the rest of this platform's AF_* names */
#ifdef AF_CAIF
    WEFT__CONST(AF_CAIF),
#endif
#ifdef AF_FILE
    WEFT__CONST(AF_FILE),
#endif
#ifdef AF_IB
    WEFT__CONST(AF_IB),
#endif
#ifdef AF_IEEE802154
    WEFT__CONST(AF_IEEE802154),
#endif
#ifdef AF_ISDN
    WEFT__CONST(AF_ISDN),
#endif
#ifdef AF_IUCV
    WEFT__CONST(AF_IUCV),
#endif
#ifdef AF_KCM
    WEFT__CONST(AF_KCM),
#endif
#ifdef AF_LOCAL
    WEFT__CONST(AF_LOCAL),
#endif
#ifdef AF_MAX
    WEFT__CONST(AF_MAX),
#endif
#ifdef AF_MCTP
    WEFT__CONST(AF_MCTP),
#endif
#ifdef AF_MPLS
    WEFT__CONST(AF_MPLS),
#endif
#ifdef AF_NFC
    WEFT__CONST(AF_NFC),
#endif
#ifdef AF_PHONET
    WEFT__CONST(AF_PHONET),
#endif
#ifdef AF_RXRPC
    WEFT__CONST(AF_RXRPC),
#endif
#ifdef AF_SMC
    WEFT__CONST(AF_SMC),
#endif
#ifdef AF_XDP
    WEFT__CONST(AF_XDP),
#endif

    /* ---- socket types and socket(2) type flags (SOCK_*LOCK, SOCK_TXREHASH_*: SO_BUF_LOCK and SO_TXREHASH values; SOCK_IOC_TYPE: the ioctl type) ---- */
#ifdef SOCK_STREAM
    WEFT__CONST(SOCK_STREAM),
#endif
#ifdef SOCK_DGRAM
    WEFT__CONST(SOCK_DGRAM),
#endif
#ifdef SOCK_RAW
    WEFT__CONST(SOCK_RAW),
#endif
#ifdef SOCK_SEQPACKET
    WEFT__CONST(SOCK_SEQPACKET),
#endif
#ifdef SOCK_RDM
    WEFT__CONST(SOCK_RDM),
#endif
#ifdef SOCK_CLOEXEC
    WEFT__CONST(SOCK_CLOEXEC),
#endif
#ifdef SOCK_NONBLOCK
    WEFT__CONST(SOCK_NONBLOCK),
#endif
    /* the rest of this platform's SOCK_* names */
#ifdef SOCK_BUF_LOCK_MASK
    WEFT__CONST(SOCK_BUF_LOCK_MASK),
#endif
#ifdef SOCK_DCCP
    WEFT__CONST(SOCK_DCCP),
#endif
#ifdef SOCK_IOC_TYPE
    WEFT__CONST(SOCK_IOC_TYPE),
#endif
#ifdef SOCK_PACKET
    WEFT__CONST(SOCK_PACKET),
#endif
#ifdef SOCK_RCVBUF_LOCK
    WEFT__CONST(SOCK_RCVBUF_LOCK),
#endif
#ifdef SOCK_SNDBUF_LOCK
    WEFT__CONST(SOCK_SNDBUF_LOCK),
#endif
#ifdef SOCK_TXREHASH_DEFAULT
    WEFT__CONST(SOCK_TXREHASH_DEFAULT),
#endif
#ifdef SOCK_TXREHASH_DISABLED
    WEFT__CONST(SOCK_TXREHASH_DISABLED),
#endif
#ifdef SOCK_TXREHASH_ENABLED
    WEFT__CONST(SOCK_TXREHASH_ENABLED),
#endif

    /* ---- SOL_SOCKET options ---- */
#ifdef SO_DEBUG
    WEFT__CONST(SO_DEBUG),
#endif
#ifdef SO_ACCEPTCONN
    WEFT__CONST(SO_ACCEPTCONN),
#endif
#ifdef SO_REUSEADDR
    WEFT__CONST(SO_REUSEADDR),
#endif
#ifdef SO_EXCLUSIVEADDRUSE
    WEFT__CONST(SO_EXCLUSIVEADDRUSE),
#endif
#ifdef SO_INCOMING_CPU
    WEFT__CONST(SO_INCOMING_CPU),
#endif
#ifdef SO_KEEPALIVE
    WEFT__CONST(SO_KEEPALIVE),
#endif
#ifdef SO_DONTROUTE
    WEFT__CONST(SO_DONTROUTE),
#endif
#ifdef SO_BROADCAST
    WEFT__CONST(SO_BROADCAST),
#endif
#ifdef SO_USELOOPBACK
    WEFT__CONST(SO_USELOOPBACK),
#endif
#ifdef SO_LINGER
    WEFT__CONST(SO_LINGER),
#endif
#ifdef SO_OOBINLINE
    WEFT__CONST(SO_OOBINLINE),
#endif
#ifdef SO_ORIGINAL_DST
    WEFT__CONST(SO_ORIGINAL_DST),
#endif
#if defined(SO_REUSEPORT) && !defined(__GNU__)
    WEFT__CONST(SO_REUSEPORT),
#endif
#ifdef SO_REUSEPORT_LB
    WEFT__CONST(SO_REUSEPORT_LB),
#endif
#ifdef SO_SNDBUF
    WEFT__CONST(SO_SNDBUF),
#endif
#ifdef SO_RCVBUF
    WEFT__CONST(SO_RCVBUF),
#endif
#ifdef SO_SNDLOWAT
    WEFT__CONST(SO_SNDLOWAT),
#endif
#ifdef SO_RCVLOWAT
    WEFT__CONST(SO_RCVLOWAT),
#endif
#ifdef SO_SNDTIMEO
    WEFT__CONST(SO_SNDTIMEO),
#endif
#ifdef SO_RCVTIMEO
    WEFT__CONST(SO_RCVTIMEO),
#endif
#ifdef SO_ERROR
    WEFT__CONST(SO_ERROR),
#endif
#ifdef SO_TYPE
    WEFT__CONST(SO_TYPE),
#endif
#ifdef SO_SETFIB
    WEFT__CONST(SO_SETFIB),
#endif
#ifdef SO_PASSCRED
    WEFT__CONST(SO_PASSCRED),
#endif
#ifdef SO_PEERCRED
    WEFT__CONST(SO_PEERCRED),
#endif
#ifdef SO_PASSSEC
    WEFT__CONST(SO_PASSSEC),
#endif
#ifdef SO_PEERSEC
    WEFT__CONST(SO_PEERSEC),
#endif
#ifdef SO_BINDTODEVICE
    WEFT__CONST(SO_BINDTODEVICE),
#endif
#ifdef SO_BINDTOIFINDEX
    WEFT__CONST(SO_BINDTOIFINDEX),
#endif
#ifdef SO_PRIORITY
    WEFT__CONST(SO_PRIORITY),
#endif
#ifdef SO_MARK
    WEFT__CONST(SO_MARK),
#endif
#ifdef SO_USER_COOKIE
    WEFT__CONST(SO_USER_COOKIE),
#endif
#ifdef SO_RTABLE
    WEFT__CONST(SO_RTABLE),
#endif
#ifdef SO_DOMAIN
    WEFT__CONST(SO_DOMAIN),
#endif
#ifdef SO_PROTOCOL
    WEFT__CONST(SO_PROTOCOL),
#endif
#ifdef SO_VM_SOCKETS_BUFFER_SIZE
    WEFT__CONST(SO_VM_SOCKETS_BUFFER_SIZE),
#endif
#ifdef SO_VM_SOCKETS_BUFFER_MIN_SIZE
    WEFT__CONST(SO_VM_SOCKETS_BUFFER_MIN_SIZE),
#endif
#ifdef SO_VM_SOCKETS_BUFFER_MAX_SIZE
    WEFT__CONST(SO_VM_SOCKETS_BUFFER_MAX_SIZE),
#endif
#ifdef SO_L2CAP_IMTU
    WEFT__CONST(SO_L2CAP_IMTU),
#endif
#ifdef SO_L2CAP_OMTU
    WEFT__CONST(SO_L2CAP_OMTU),
#endif
#ifdef SO_L2CAP_FLUSH
    WEFT__CONST(SO_L2CAP_FLUSH),
#endif
#ifdef SO_L2CAP_IQOS
    WEFT__CONST(SO_L2CAP_IQOS),
#endif
#ifdef SO_L2CAP_OQOS
    WEFT__CONST(SO_L2CAP_OQOS),
#endif
#ifdef SO_L2CAP_ENCRYPTED
    WEFT__CONST(SO_L2CAP_ENCRYPTED),
#endif
#ifdef SO_L2CAP_LM
    WEFT__CONST(SO_L2CAP_LM),
#endif
#ifdef SO_HCI_EVT_FILTER
    WEFT__CONST(SO_HCI_EVT_FILTER),
#endif
#ifdef SO_HCI_PKT_FILTER
    WEFT__CONST(SO_HCI_PKT_FILTER),
#endif
#ifdef SO_RFCOMM_MTU
    WEFT__CONST(SO_RFCOMM_MTU),
#endif
#ifdef SO_RFCOMM_FC_INFO
    WEFT__CONST(SO_RFCOMM_FC_INFO),
#endif
#ifdef SO_RFCOMM_LM
    WEFT__CONST(SO_RFCOMM_LM),
#endif
#ifdef SO_BTH_ENCRYPT
    WEFT__CONST(SO_BTH_ENCRYPT),
#endif
#ifdef SO_BTH_MTU
    WEFT__CONST(SO_BTH_MTU),
#endif
#ifdef SO_BTH_MTU_MAX
    WEFT__CONST(SO_BTH_MTU_MAX),
#endif
#ifdef SO_BTH_MTU_MIN
    WEFT__CONST(SO_BTH_MTU_MIN),
#endif
#ifdef SO_SCO_MTU
    WEFT__CONST(SO_SCO_MTU),
#endif
#ifdef SO_SCO_CONNINFO
    WEFT__CONST(SO_SCO_CONNINFO),
#endif
#ifdef SO_SCO_HANDLE
    WEFT__CONST(SO_SCO_HANDLE),
#endif
#ifdef WEFT__HAVE_J1939 /* enumerators in <linux/can/j1939.h> */
    WEFT__CONST(SO_J1939_FILTER),
    WEFT__CONST(SO_J1939_PROMISC),
    WEFT__CONST(SO_J1939_SEND_PRIO),
    WEFT__CONST(SO_J1939_ERRQUEUE),
#endif
    /* the rest of this platform's SO_* names */
#ifdef SO_ATTACH_BPF
    WEFT__CONST(SO_ATTACH_BPF),
#endif
#ifdef SO_ATTACH_FILTER
    WEFT__CONST(SO_ATTACH_FILTER),
#endif
#ifdef SO_ATTACH_REUSEPORT_CBPF
    WEFT__CONST(SO_ATTACH_REUSEPORT_CBPF),
#endif
#ifdef SO_ATTACH_REUSEPORT_EBPF
    WEFT__CONST(SO_ATTACH_REUSEPORT_EBPF),
#endif
#ifdef SO_BPF_EXTENSIONS
    WEFT__CONST(SO_BPF_EXTENSIONS),
#endif
#ifdef SO_BSDCOMPAT
    WEFT__CONST(SO_BSDCOMPAT),
#endif
#ifdef SO_BUF_LOCK
    WEFT__CONST(SO_BUF_LOCK),
#endif
#ifdef SO_BUSY_POLL
    WEFT__CONST(SO_BUSY_POLL),
#endif
#ifdef SO_BUSY_POLL_BUDGET
    WEFT__CONST(SO_BUSY_POLL_BUDGET),
#endif
#ifdef SO_CNX_ADVICE
    WEFT__CONST(SO_CNX_ADVICE),
#endif
#ifdef SO_COOKIE
    WEFT__CONST(SO_COOKIE),
#endif
#ifdef SO_DETACH_BPF
    WEFT__CONST(SO_DETACH_BPF),
#endif
#ifdef SO_DETACH_FILTER
    WEFT__CONST(SO_DETACH_FILTER),
#endif
#ifdef SO_DETACH_REUSEPORT_BPF
    WEFT__CONST(SO_DETACH_REUSEPORT_BPF),
#endif
#ifdef SO_GET_FILTER
    WEFT__CONST(SO_GET_FILTER),
#endif
#ifdef SO_INCOMING_NAPI_ID
    WEFT__CONST(SO_INCOMING_NAPI_ID),
#endif
#ifdef SO_LOCK_FILTER
    WEFT__CONST(SO_LOCK_FILTER),
#endif
#ifdef SO_MAX_PACING_RATE
    WEFT__CONST(SO_MAX_PACING_RATE),
#endif
#ifdef SO_MEMINFO
    WEFT__CONST(SO_MEMINFO),
#endif
#ifdef SO_NETNS_COOKIE
    WEFT__CONST(SO_NETNS_COOKIE),
#endif
#ifdef SO_NOFCS
    WEFT__CONST(SO_NOFCS),
#endif
#ifdef SO_NO_CHECK
    WEFT__CONST(SO_NO_CHECK),
#endif
#ifdef SO_PEEK_OFF
    WEFT__CONST(SO_PEEK_OFF),
#endif
#ifdef SO_PEERGROUPS
    WEFT__CONST(SO_PEERGROUPS),
#endif
#ifdef SO_PEERNAME
    WEFT__CONST(SO_PEERNAME),
#endif
#ifdef SO_PREFER_BUSY_POLL
    WEFT__CONST(SO_PREFER_BUSY_POLL),
#endif
#ifdef SO_RCVBUFFORCE
    WEFT__CONST(SO_RCVBUFFORCE),
#endif
#ifdef SO_RCVMARK
    WEFT__CONST(SO_RCVMARK),
#endif
#ifdef SO_RCVTIMEO_NEW
    WEFT__CONST(SO_RCVTIMEO_NEW),
#endif
#ifdef SO_RCVTIMEO_OLD
    WEFT__CONST(SO_RCVTIMEO_OLD),
#endif
#ifdef SO_RESERVE_MEM
    WEFT__CONST(SO_RESERVE_MEM),
#endif
#ifdef SO_RXQ_OVFL
    WEFT__CONST(SO_RXQ_OVFL),
#endif
#ifdef SO_SECURITY_AUTHENTICATION
    WEFT__CONST(SO_SECURITY_AUTHENTICATION),
#endif
#ifdef SO_SECURITY_ENCRYPTION_NETWORK
    WEFT__CONST(SO_SECURITY_ENCRYPTION_NETWORK),
#endif
#ifdef SO_SECURITY_ENCRYPTION_TRANSPORT
    WEFT__CONST(SO_SECURITY_ENCRYPTION_TRANSPORT),
#endif
#ifdef SO_SELECT_ERR_QUEUE
    WEFT__CONST(SO_SELECT_ERR_QUEUE),
#endif
#ifdef SO_SNDBUFFORCE
    WEFT__CONST(SO_SNDBUFFORCE),
#endif
#ifdef SO_SNDTIMEO_NEW
    WEFT__CONST(SO_SNDTIMEO_NEW),
#endif
#ifdef SO_SNDTIMEO_OLD
    WEFT__CONST(SO_SNDTIMEO_OLD),
#endif
#ifdef SO_TIMESTAMP
    WEFT__CONST(SO_TIMESTAMP),
#endif
#ifdef SO_TIMESTAMPING
    WEFT__CONST(SO_TIMESTAMPING),
#endif
#ifdef SO_TIMESTAMPING_NEW
    WEFT__CONST(SO_TIMESTAMPING_NEW),
#endif
#ifdef SO_TIMESTAMPING_OLD
    WEFT__CONST(SO_TIMESTAMPING_OLD),
#endif
#ifdef SO_TIMESTAMPNS
    WEFT__CONST(SO_TIMESTAMPNS),
#endif
#ifdef SO_TIMESTAMPNS_NEW
    WEFT__CONST(SO_TIMESTAMPNS_NEW),
#endif
#ifdef SO_TIMESTAMPNS_OLD
    WEFT__CONST(SO_TIMESTAMPNS_OLD),
#endif
#ifdef SO_TIMESTAMP_NEW
    WEFT__CONST(SO_TIMESTAMP_NEW),
#endif
#ifdef SO_TIMESTAMP_OLD
    WEFT__CONST(SO_TIMESTAMP_OLD),
#endif
#ifdef SO_TXREHASH
    WEFT__CONST(SO_TXREHASH),
#endif
#ifdef SO_TXTIME
    WEFT__CONST(SO_TXTIME),
#endif
#ifdef SO_VM_SOCKETS_CONNECT_TIMEOUT
    WEFT__CONST(SO_VM_SOCKETS_CONNECT_TIMEOUT),
#endif
#ifdef SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW
    WEFT__CONST(SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW),
#endif
#ifdef SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD
    WEFT__CONST(SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD),
#endif
#ifdef SO_VM_SOCKETS_NONBLOCK_TXRX
    WEFT__CONST(SO_VM_SOCKETS_NONBLOCK_TXRX),
#endif
#ifdef SO_VM_SOCKETS_PEER_HOST_VM_ID
    WEFT__CONST(SO_VM_SOCKETS_PEER_HOST_VM_ID),
#endif
#ifdef SO_VM_SOCKETS_TRUSTED
    WEFT__CONST(SO_VM_SOCKETS_TRUSTED),
#endif
#ifdef SO_WIFI_STATUS
    WEFT__CONST(SO_WIFI_STATUS),
#endif
#ifdef SO_ZEROCOPY
    WEFT__CONST(SO_ZEROCOPY),
#endif

    /* ---- listen(2) backlog ---- */
#ifdef SOMAXCONN
    WEFT__CONST(SOMAXCONN),
#endif

    /* ---- option levels ---- */
#ifdef SOL_SOCKET
    WEFT__CONST(SOL_SOCKET),
#endif
#ifdef SOL_IP
    WEFT__CONST(SOL_IP),
#endif
#ifdef SOL_IPX
    WEFT__CONST(SOL_IPX),
#endif
#ifdef SOL_AX25
    WEFT__CONST(SOL_AX25),
#endif
#ifdef SOL_ATALK
    WEFT__CONST(SOL_ATALK),
#endif
#ifdef SOL_NETROM
    WEFT__CONST(SOL_NETROM),
#endif
#ifdef SOL_ROSE
    WEFT__CONST(SOL_ROSE),
#endif
#ifdef SOL_TCP
    WEFT__CONST(SOL_TCP),
#endif
#ifdef SOL_UDP
    WEFT__CONST(SOL_UDP),
#endif
#ifdef SOL_CAN_BASE
    WEFT__CONST(SOL_CAN_BASE),
#endif
#ifdef SOL_CAN_RAW
    WEFT__CONST(SOL_CAN_RAW),
#endif
#ifdef SOL_RDS
    WEFT__CONST(SOL_RDS),
#endif
#ifdef SOL_ALG
    WEFT__CONST(SOL_ALG),
#endif
#ifdef SOL_TIPC
    WEFT__CONST(SOL_TIPC),
#endif
#ifdef SOL_L2CAP
    WEFT__CONST(SOL_L2CAP),
#endif
#ifdef SOL_HCI
    WEFT__CONST(SOL_HCI),
#endif
#ifdef SOL_RFCOMM
    WEFT__CONST(SOL_RFCOMM),
#endif
#ifdef SOL_SCO
    WEFT__CONST(SOL_SCO),
#endif
#ifdef SOL_BLUETOOTH
    WEFT__CONST(SOL_BLUETOOTH),
#endif
    /* the rest of this platform's SOL_* names */
#ifdef SOL_AAL
    WEFT__CONST(SOL_AAL),
#endif
#ifdef SOL_ATM
    WEFT__CONST(SOL_ATM),
#endif
#ifdef SOL_CAIF
    WEFT__CONST(SOL_CAIF),
#endif
#ifdef SOL_CAN_J1939
    WEFT__CONST(SOL_CAN_J1939),
#endif
#ifdef SOL_DCCP
    WEFT__CONST(SOL_DCCP),
#endif
#ifdef SOL_DECNET
    WEFT__CONST(SOL_DECNET),
#endif
#ifdef SOL_ICMPV6
    WEFT__CONST(SOL_ICMPV6),
#endif
#ifdef SOL_IPV6
    WEFT__CONST(SOL_IPV6),
#endif
#ifdef SOL_IRDA
    WEFT__CONST(SOL_IRDA),
#endif
#ifdef SOL_IUCV
    WEFT__CONST(SOL_IUCV),
#endif
#ifdef SOL_KCM
    WEFT__CONST(SOL_KCM),
#endif
#ifdef SOL_LLC
    WEFT__CONST(SOL_LLC),
#endif
#ifdef SOL_MCTP
    WEFT__CONST(SOL_MCTP),
#endif
#ifdef SOL_MPTCP
    WEFT__CONST(SOL_MPTCP),
#endif
#ifdef SOL_NETBEUI
    WEFT__CONST(SOL_NETBEUI),
#endif
#ifdef SOL_NETLINK
    WEFT__CONST(SOL_NETLINK),
#endif
#ifdef SOL_NFC
    WEFT__CONST(SOL_NFC),
#endif
#ifdef SOL_PACKET
    WEFT__CONST(SOL_PACKET),
#endif
#ifdef SOL_PNPIPE
    WEFT__CONST(SOL_PNPIPE),
#endif
#ifdef SOL_PPPOL2TP
    WEFT__CONST(SOL_PPPOL2TP),
#endif
#ifdef SOL_RAW
    WEFT__CONST(SOL_RAW),
#endif
#ifdef SOL_RXRPC
    WEFT__CONST(SOL_RXRPC),
#endif
#ifdef SOL_SMC
    WEFT__CONST(SOL_SMC),
#endif
#ifdef SOL_TLS
    WEFT__CONST(SOL_TLS),
#endif
#ifdef SOL_VSOCK
    WEFT__CONST(SOL_VSOCK),
#endif
#ifdef SOL_X25
    WEFT__CONST(SOL_X25),
#endif
#ifdef SOL_XDP
    WEFT__CONST(SOL_XDP),
#endif

    /* ---- ancillary message types ---- */
#ifdef SCM_RIGHTS
    WEFT__CONST(SCM_RIGHTS),
#endif
#ifdef SCM_CREDENTIALS
    WEFT__CONST(SCM_CREDENTIALS),
#endif
#ifdef SCM_CREDS
    WEFT__CONST(SCM_CREDS),
#endif
#ifdef SCM_CREDS2
    WEFT__CONST(SCM_CREDS2),
#endif
#ifdef WEFT__HAVE_J1939
    WEFT__CONST(SCM_J1939_DEST_ADDR),
    WEFT__CONST(SCM_J1939_DEST_NAME),
    WEFT__CONST(SCM_J1939_PRIO),
    WEFT__CONST(SCM_J1939_ERRQUEUE),
#endif
    /* the rest of this platform's SCM_* names */
#ifdef SCM_TIMESTAMP
    WEFT__CONST(SCM_TIMESTAMP),
#endif
#ifdef SCM_TIMESTAMPING
    WEFT__CONST(SCM_TIMESTAMPING),
#endif
#ifdef SCM_TIMESTAMPING_OPT_STATS
    WEFT__CONST(SCM_TIMESTAMPING_OPT_STATS),
#endif
#ifdef SCM_TIMESTAMPING_PKTINFO
    WEFT__CONST(SCM_TIMESTAMPING_PKTINFO),
#endif
#ifdef SCM_TIMESTAMPNS
    WEFT__CONST(SCM_TIMESTAMPNS),
#endif
#ifdef SCM_TXTIME
    WEFT__CONST(SCM_TXTIME),
#endif
#ifdef SCM_WIFI_STATUS
    WEFT__CONST(SCM_WIFI_STATUS),
#endif

    /* ---- send and recv flags ---- */
#ifdef MSG_OOB
    WEFT__CONST(MSG_OOB),
#endif
#ifdef MSG_PEEK
    WEFT__CONST(MSG_PEEK),
#endif
#ifdef MSG_DONTROUTE
    WEFT__CONST(MSG_DONTROUTE),
#endif
#ifdef MSG_DONTWAIT
    WEFT__CONST(MSG_DONTWAIT),
#endif
#ifdef MSG_EOR
    WEFT__CONST(MSG_EOR),
#endif
#ifdef MSG_TRUNC
    WEFT__CONST(MSG_TRUNC),
#endif
#ifdef MSG_CTRUNC
    WEFT__CONST(MSG_CTRUNC),
#endif
#ifdef MSG_WAITALL
    WEFT__CONST(MSG_WAITALL),
#endif
#ifdef MSG_BTAG
    WEFT__CONST(MSG_BTAG),
#endif
#ifdef MSG_ETAG
    WEFT__CONST(MSG_ETAG),
#endif
#ifdef MSG_NOSIGNAL
    WEFT__CONST(MSG_NOSIGNAL),
#endif
#ifdef MSG_NOTIFICATION
    WEFT__CONST(MSG_NOTIFICATION),
#endif
#ifdef MSG_CMSG_CLOEXEC
    WEFT__CONST(MSG_CMSG_CLOEXEC),
#endif
#ifdef MSG_ERRQUEUE
    WEFT__CONST(MSG_ERRQUEUE),
#endif
#ifdef MSG_CONFIRM
    WEFT__CONST(MSG_CONFIRM),
#endif
#ifdef MSG_MORE
    WEFT__CONST(MSG_MORE),
#endif
#ifdef MSG_EOF
    WEFT__CONST(MSG_EOF),
#endif
#ifdef MSG_BCAST
    WEFT__CONST(MSG_BCAST),
#endif
#ifdef MSG_MCAST
    WEFT__CONST(MSG_MCAST),
#endif
#ifdef MSG_FASTOPEN
    WEFT__CONST(MSG_FASTOPEN),
#endif
    /* the rest of this platform's MSG_* names */
#ifdef MSG_BATCH
    WEFT__CONST(MSG_BATCH),
#endif
#ifdef MSG_FIN
    WEFT__CONST(MSG_FIN),
#endif
#ifdef MSG_PROXY
    WEFT__CONST(MSG_PROXY),
#endif
#ifdef MSG_RST
    WEFT__CONST(MSG_RST),
#endif
#ifdef MSG_SYN
    WEFT__CONST(MSG_SYN),
#endif
#ifdef MSG_TRYHARD
    WEFT__CONST(MSG_TRYHARD),
#endif
#ifdef MSG_WAITFORONE
    WEFT__CONST(MSG_WAITFORONE),
#endif
#ifdef MSG_ZEROCOPY
    WEFT__CONST(MSG_ZEROCOPY),
#endif

    /* ---- IP protocol numbers ---- */
#ifdef IPPROTO_IP
    WEFT__CONST(IPPROTO_IP),
#endif
#ifdef IPPROTO_HOPOPTS
    WEFT__CONST(IPPROTO_HOPOPTS),
#endif
#ifdef IPPROTO_ICMP
    WEFT__CONST(IPPROTO_ICMP),
#endif
#ifdef IPPROTO_IGMP
    WEFT__CONST(IPPROTO_IGMP),
#endif
#ifdef IPPROTO_GGP
    WEFT__CONST(IPPROTO_GGP),
#endif
#ifdef IPPROTO_IPV4
    WEFT__CONST(IPPROTO_IPV4),
#endif
#ifdef IPPROTO_IPV6
    WEFT__CONST(IPPROTO_IPV6),
#endif
#ifdef IPPROTO_IPIP
    WEFT__CONST(IPPROTO_IPIP),
#endif
#ifdef IPPROTO_TCP
    WEFT__CONST(IPPROTO_TCP),
#endif
#ifdef IPPROTO_EGP
    WEFT__CONST(IPPROTO_EGP),
#endif
#ifdef IPPROTO_PUP
    WEFT__CONST(IPPROTO_PUP),
#endif
#ifdef IPPROTO_UDP
    WEFT__CONST(IPPROTO_UDP),
#endif
#ifdef IPPROTO_UDPLITE
    WEFT__CONST(IPPROTO_UDPLITE),
#endif
#ifdef IPPROTO_IDP
    WEFT__CONST(IPPROTO_IDP),
#endif
#ifdef IPPROTO_HELLO
    WEFT__CONST(IPPROTO_HELLO),
#endif
#ifdef IPPROTO_ND
    WEFT__CONST(IPPROTO_ND),
#endif
#ifdef IPPROTO_TP
    WEFT__CONST(IPPROTO_TP),
#endif
#ifdef IPPROTO_ROUTING
    WEFT__CONST(IPPROTO_ROUTING),
#endif
#ifdef IPPROTO_FRAGMENT
    WEFT__CONST(IPPROTO_FRAGMENT),
#endif
#ifdef IPPROTO_RSVP
    WEFT__CONST(IPPROTO_RSVP),
#endif
#ifdef IPPROTO_GRE
    WEFT__CONST(IPPROTO_GRE),
#endif
#ifdef IPPROTO_ESP
    WEFT__CONST(IPPROTO_ESP),
#endif
#ifdef IPPROTO_AH
    WEFT__CONST(IPPROTO_AH),
#endif
#ifdef IPPROTO_MOBILE
    WEFT__CONST(IPPROTO_MOBILE),
#endif
#ifdef IPPROTO_ICMPV6
    WEFT__CONST(IPPROTO_ICMPV6),
#endif
#ifdef IPPROTO_NONE
    WEFT__CONST(IPPROTO_NONE),
#endif
#ifdef IPPROTO_DSTOPTS
    WEFT__CONST(IPPROTO_DSTOPTS),
#endif
#ifdef IPPROTO_XTP
    WEFT__CONST(IPPROTO_XTP),
#endif
#ifdef IPPROTO_EON
    WEFT__CONST(IPPROTO_EON),
#endif
#ifdef IPPROTO_PIM
    WEFT__CONST(IPPROTO_PIM),
#endif
#ifdef IPPROTO_IPCOMP
    WEFT__CONST(IPPROTO_IPCOMP),
#endif
#ifdef IPPROTO_VRRP
    WEFT__CONST(IPPROTO_VRRP),
#endif
#ifdef IPPROTO_SCTP
    WEFT__CONST(IPPROTO_SCTP),
#endif
#ifdef IPPROTO_BIP
    WEFT__CONST(IPPROTO_BIP),
#endif
#ifdef IPPROTO_MPTCP
    WEFT__CONST(IPPROTO_MPTCP),
#endif
#ifdef IPPROTO_RAW
    WEFT__CONST(IPPROTO_RAW),
#endif
#ifdef IPPROTO_MAX
    WEFT__CONST(IPPROTO_MAX),
#endif
#ifdef IPPROTO_ICLFXBM
    WEFT__CONST(IPPROTO_ICLFXBM),
#endif
#ifdef IPPROTO_ST
    WEFT__CONST(IPPROTO_ST),
#endif
#ifdef IPPROTO_CBT
    WEFT__CONST(IPPROTO_CBT),
#endif
#ifdef IPPROTO_IGP
    WEFT__CONST(IPPROTO_IGP),
#endif
#ifdef IPPROTO_RDP
    WEFT__CONST(IPPROTO_RDP),
#endif
#ifdef IPPROTO_PGM
    WEFT__CONST(IPPROTO_PGM),
#endif
#ifdef IPPROTO_L2TP
    WEFT__CONST(IPPROTO_L2TP),
#endif
    /* the rest of this platform's IPPROTO_* names */
#ifdef IPPROTO_BEETPH
    WEFT__CONST(IPPROTO_BEETPH),
#endif
#ifdef IPPROTO_COMP
    WEFT__CONST(IPPROTO_COMP),
#endif
#ifdef IPPROTO_DCCP
    WEFT__CONST(IPPROTO_DCCP),
#endif
#ifdef IPPROTO_ENCAP
    WEFT__CONST(IPPROTO_ENCAP),
#endif
#ifdef IPPROTO_ETHERNET
    WEFT__CONST(IPPROTO_ETHERNET),
#endif
#ifdef IPPROTO_MH
    WEFT__CONST(IPPROTO_MH),
#endif
#ifdef IPPROTO_MPLS
    WEFT__CONST(IPPROTO_MPLS),
#endif
#ifdef IPPROTO_MTP
    WEFT__CONST(IPPROTO_MTP),
#endif

    /* ---- port ranges ---- */
#ifdef IPPORT_RESERVED
    WEFT__CONST(IPPORT_RESERVED),
#endif
#ifdef WEFT__HAVE_IPPORT_USERRESERVED
    WEFT__CONST(IPPORT_USERRESERVED),
#endif

    /* ---- IPv4 addresses, host order (as CPython gives them) ---- */
#ifdef INADDR_ANY
    WEFT__CONST(INADDR_ANY),
#endif
#ifdef INADDR_BROADCAST
    WEFT__CONST(INADDR_BROADCAST),
#endif
#ifdef INADDR_LOOPBACK
    WEFT__CONST(INADDR_LOOPBACK),
#endif
#ifdef INADDR_UNSPEC_GROUP
    WEFT__CONST(INADDR_UNSPEC_GROUP),
#endif
#ifdef INADDR_ALLHOSTS_GROUP
    WEFT__CONST(INADDR_ALLHOSTS_GROUP),
#endif
#ifdef INADDR_MAX_LOCAL_GROUP
    WEFT__CONST(INADDR_MAX_LOCAL_GROUP),
#endif
#ifdef INADDR_NONE
    WEFT__CONST(INADDR_NONE),
#endif
    /* the rest of this platform's INADDR_* names */
#ifdef INADDR_ALLRTRS_GROUP
    WEFT__CONST(INADDR_ALLRTRS_GROUP),
#endif
#ifdef INADDR_ALLSNOOPERS_GROUP
    WEFT__CONST(INADDR_ALLSNOOPERS_GROUP),
#endif
#ifdef INADDR_DUMMY
    WEFT__CONST(INADDR_DUMMY),
#endif

    /* ---- IPPROTO_IP options ---- */
#ifdef IP_OPTIONS
    WEFT__CONST(IP_OPTIONS),
#endif
#ifdef IP_HDRINCL
    WEFT__CONST(IP_HDRINCL),
#endif
#ifdef IP_TOS
    WEFT__CONST(IP_TOS),
#endif
#ifdef IP_TTL
    WEFT__CONST(IP_TTL),
#endif
#ifdef IP_RECVERR
    WEFT__CONST(IP_RECVERR),
#endif
#ifdef IP_RECVOPTS
    WEFT__CONST(IP_RECVOPTS),
#endif
#ifdef IP_RECVORIGDSTADDR
    WEFT__CONST(IP_RECVORIGDSTADDR),
#endif
#ifdef IP_RECVRETOPTS
    WEFT__CONST(IP_RECVRETOPTS),
#endif
#ifdef IP_RECVTOS
    WEFT__CONST(IP_RECVTOS),
#endif
#ifdef IP_RECVTTL
    WEFT__CONST(IP_RECVTTL),
#endif
#ifdef IP_RECVDSTADDR
    WEFT__CONST(IP_RECVDSTADDR),
#endif
#ifdef IP_RETOPTS
    WEFT__CONST(IP_RETOPTS),
#endif
#ifdef IP_MULTICAST_IF
    WEFT__CONST(IP_MULTICAST_IF),
#endif
#ifdef IP_MULTICAST_TTL
    WEFT__CONST(IP_MULTICAST_TTL),
#endif
#ifdef IP_MULTICAST_LOOP
    WEFT__CONST(IP_MULTICAST_LOOP),
#endif
#ifdef IP_ADD_MEMBERSHIP
    WEFT__CONST(IP_ADD_MEMBERSHIP),
#endif
#ifdef IP_DROP_MEMBERSHIP
    WEFT__CONST(IP_DROP_MEMBERSHIP),
#endif
#ifdef IP_DEFAULT_MULTICAST_TTL
    WEFT__CONST(IP_DEFAULT_MULTICAST_TTL),
#endif
#ifdef IP_DEFAULT_MULTICAST_LOOP
    WEFT__CONST(IP_DEFAULT_MULTICAST_LOOP),
#endif
#ifdef IP_MAX_MEMBERSHIPS
    WEFT__CONST(IP_MAX_MEMBERSHIPS),
#endif
#ifdef IP_FREEBIND
    WEFT__CONST(IP_FREEBIND),
#endif
#ifdef IP_TRANSPARENT
    WEFT__CONST(IP_TRANSPARENT),
#endif
#ifdef IP_PKTINFO
    WEFT__CONST(IP_PKTINFO),
#endif
#ifdef IP_BIND_ADDRESS_NO_PORT
    WEFT__CONST(IP_BIND_ADDRESS_NO_PORT),
#endif
#ifdef IP_UNBLOCK_SOURCE
    WEFT__CONST(IP_UNBLOCK_SOURCE),
#endif
#ifdef IP_BLOCK_SOURCE
    WEFT__CONST(IP_BLOCK_SOURCE),
#endif
#ifdef IP_ADD_SOURCE_MEMBERSHIP
    WEFT__CONST(IP_ADD_SOURCE_MEMBERSHIP),
#endif
#ifdef IP_DROP_SOURCE_MEMBERSHIP
    WEFT__CONST(IP_DROP_SOURCE_MEMBERSHIP),
#endif
    /* the rest of this platform's IP_* names */
#ifdef IP_CHECKSUM
    WEFT__CONST(IP_CHECKSUM),
#endif
#ifdef IP_IPSEC_POLICY
    WEFT__CONST(IP_IPSEC_POLICY),
#endif
#ifdef IP_MINTTL
    WEFT__CONST(IP_MINTTL),
#endif
#ifdef IP_MSFILTER
    WEFT__CONST(IP_MSFILTER),
#endif
#ifdef IP_MTU
    WEFT__CONST(IP_MTU),
#endif
#ifdef IP_MTU_DISCOVER
    WEFT__CONST(IP_MTU_DISCOVER),
#endif
#ifdef IP_MULTICAST_ALL
    WEFT__CONST(IP_MULTICAST_ALL),
#endif
#ifdef IP_NODEFRAG
    WEFT__CONST(IP_NODEFRAG),
#endif
#ifdef IP_ORIGDSTADDR
    WEFT__CONST(IP_ORIGDSTADDR),
#endif
#ifdef IP_PASSSEC
    WEFT__CONST(IP_PASSSEC),
#endif
#ifdef IP_PKTOPTIONS
    WEFT__CONST(IP_PKTOPTIONS),
#endif
#ifdef IP_PMTUDISC
    WEFT__CONST(IP_PMTUDISC),
#endif
#ifdef IP_PMTUDISC_DO
    WEFT__CONST(IP_PMTUDISC_DO),
#endif
#ifdef IP_PMTUDISC_DONT
    WEFT__CONST(IP_PMTUDISC_DONT),
#endif
#ifdef IP_PMTUDISC_INTERFACE
    WEFT__CONST(IP_PMTUDISC_INTERFACE),
#endif
#ifdef IP_PMTUDISC_OMIT
    WEFT__CONST(IP_PMTUDISC_OMIT),
#endif
#ifdef IP_PMTUDISC_PROBE
    WEFT__CONST(IP_PMTUDISC_PROBE),
#endif
#ifdef IP_PMTUDISC_WANT
    WEFT__CONST(IP_PMTUDISC_WANT),
#endif
#ifdef IP_RECVERR_RFC4884
    WEFT__CONST(IP_RECVERR_RFC4884),
#endif
#ifdef IP_RECVFRAGSIZE
    WEFT__CONST(IP_RECVFRAGSIZE),
#endif
#ifdef IP_ROUTER_ALERT
    WEFT__CONST(IP_ROUTER_ALERT),
#endif
#ifdef IP_UNICAST_IF
    WEFT__CONST(IP_UNICAST_IF),
#endif
#ifdef IP_XFRM_POLICY
    WEFT__CONST(IP_XFRM_POLICY),
#endif

    /* ---- IPPROTO_IPV6 options ---- */
#ifdef IPV6_JOIN_GROUP
    WEFT__CONST(IPV6_JOIN_GROUP),
#endif
#ifdef IPV6_LEAVE_GROUP
    WEFT__CONST(IPV6_LEAVE_GROUP),
#endif
#ifdef IPV6_MULTICAST_HOPS
    WEFT__CONST(IPV6_MULTICAST_HOPS),
#endif
#ifdef IPV6_MULTICAST_IF
    WEFT__CONST(IPV6_MULTICAST_IF),
#endif
#ifdef IPV6_MULTICAST_LOOP
    WEFT__CONST(IPV6_MULTICAST_LOOP),
#endif
#ifdef IPV6_UNICAST_HOPS
    WEFT__CONST(IPV6_UNICAST_HOPS),
#endif
#ifdef IPV6_V6ONLY
    WEFT__CONST(IPV6_V6ONLY),
#endif
#ifdef IPV6_CHECKSUM
    WEFT__CONST(IPV6_CHECKSUM),
#endif
#ifdef IPV6_DONTFRAG
    WEFT__CONST(IPV6_DONTFRAG),
#endif
#ifdef IPV6_DSTOPTS
    WEFT__CONST(IPV6_DSTOPTS),
#endif
#ifdef IPV6_HOPLIMIT
    WEFT__CONST(IPV6_HOPLIMIT),
#endif
#ifdef IPV6_HOPOPTS
    WEFT__CONST(IPV6_HOPOPTS),
#endif
#ifdef IPV6_NEXTHOP
    WEFT__CONST(IPV6_NEXTHOP),
#endif
#ifdef IPV6_PATHMTU
    WEFT__CONST(IPV6_PATHMTU),
#endif
#ifdef IPV6_PKTINFO
    WEFT__CONST(IPV6_PKTINFO),
#endif
#ifdef IPV6_RECVDSTOPTS
    WEFT__CONST(IPV6_RECVDSTOPTS),
#endif
#ifdef IPV6_RECVERR
    WEFT__CONST(IPV6_RECVERR),
#endif
#ifdef IPV6_RECVHOPLIMIT
    WEFT__CONST(IPV6_RECVHOPLIMIT),
#endif
#ifdef IPV6_RECVHOPOPTS
    WEFT__CONST(IPV6_RECVHOPOPTS),
#endif
#ifdef IPV6_RECVPKTINFO
    WEFT__CONST(IPV6_RECVPKTINFO),
#endif
#ifdef IPV6_RECVRTHDR
    WEFT__CONST(IPV6_RECVRTHDR),
#endif
#ifdef IPV6_RECVTCLASS
    WEFT__CONST(IPV6_RECVTCLASS),
#endif
#ifdef IPV6_RTHDR
    WEFT__CONST(IPV6_RTHDR),
#endif
#ifdef IPV6_RTHDRDSTOPTS
    WEFT__CONST(IPV6_RTHDRDSTOPTS),
#endif
#ifdef IPV6_RTHDR_TYPE_0
    WEFT__CONST(IPV6_RTHDR_TYPE_0),
#endif
#ifdef IPV6_RECVPATHMTU
    WEFT__CONST(IPV6_RECVPATHMTU),
#endif
#ifdef IPV6_TCLASS
    WEFT__CONST(IPV6_TCLASS),
#endif
#ifdef IPV6_USE_MIN_MTU
    WEFT__CONST(IPV6_USE_MIN_MTU),
#endif
    /* the rest of this platform's IPV6_* names */
#ifdef IPV6_2292DSTOPTS
    WEFT__CONST(IPV6_2292DSTOPTS),
#endif
#ifdef IPV6_2292HOPLIMIT
    WEFT__CONST(IPV6_2292HOPLIMIT),
#endif
#ifdef IPV6_2292HOPOPTS
    WEFT__CONST(IPV6_2292HOPOPTS),
#endif
#ifdef IPV6_2292PKTINFO
    WEFT__CONST(IPV6_2292PKTINFO),
#endif
#ifdef IPV6_2292PKTOPTIONS
    WEFT__CONST(IPV6_2292PKTOPTIONS),
#endif
#ifdef IPV6_2292RTHDR
    WEFT__CONST(IPV6_2292RTHDR),
#endif
#ifdef IPV6_ADDRFORM
    WEFT__CONST(IPV6_ADDRFORM),
#endif
#ifdef IPV6_ADDR_PREFERENCES
    WEFT__CONST(IPV6_ADDR_PREFERENCES),
#endif
#ifdef IPV6_ADD_MEMBERSHIP
    WEFT__CONST(IPV6_ADD_MEMBERSHIP),
#endif
#ifdef IPV6_AUTHHDR
    WEFT__CONST(IPV6_AUTHHDR),
#endif
#ifdef IPV6_AUTOFLOWLABEL
    WEFT__CONST(IPV6_AUTOFLOWLABEL),
#endif
#ifdef IPV6_DROP_MEMBERSHIP
    WEFT__CONST(IPV6_DROP_MEMBERSHIP),
#endif
#ifdef IPV6_FREEBIND
    WEFT__CONST(IPV6_FREEBIND),
#endif
#ifdef IPV6_HDRINCL
    WEFT__CONST(IPV6_HDRINCL),
#endif
#ifdef IPV6_IPSEC_POLICY
    WEFT__CONST(IPV6_IPSEC_POLICY),
#endif
#ifdef IPV6_JOIN_ANYCAST
    WEFT__CONST(IPV6_JOIN_ANYCAST),
#endif
#ifdef IPV6_LEAVE_ANYCAST
    WEFT__CONST(IPV6_LEAVE_ANYCAST),
#endif
#ifdef IPV6_MINHOPCOUNT
    WEFT__CONST(IPV6_MINHOPCOUNT),
#endif
#ifdef IPV6_MTU
    WEFT__CONST(IPV6_MTU),
#endif
#ifdef IPV6_MTU_DISCOVER
    WEFT__CONST(IPV6_MTU_DISCOVER),
#endif
#ifdef IPV6_MULTICAST_ALL
    WEFT__CONST(IPV6_MULTICAST_ALL),
#endif
#ifdef IPV6_ORIGDSTADDR
    WEFT__CONST(IPV6_ORIGDSTADDR),
#endif
#ifdef IPV6_PMTUDISC_DO
    WEFT__CONST(IPV6_PMTUDISC_DO),
#endif
#ifdef IPV6_PMTUDISC_DONT
    WEFT__CONST(IPV6_PMTUDISC_DONT),
#endif
#ifdef IPV6_PMTUDISC_INTERFACE
    WEFT__CONST(IPV6_PMTUDISC_INTERFACE),
#endif
#ifdef IPV6_PMTUDISC_OMIT
    WEFT__CONST(IPV6_PMTUDISC_OMIT),
#endif
#ifdef IPV6_PMTUDISC_PROBE
    WEFT__CONST(IPV6_PMTUDISC_PROBE),
#endif
#ifdef IPV6_PMTUDISC_WANT
    WEFT__CONST(IPV6_PMTUDISC_WANT),
#endif
#ifdef IPV6_RECVERR_RFC4884
    WEFT__CONST(IPV6_RECVERR_RFC4884),
#endif
#ifdef IPV6_RECVFRAGSIZE
    WEFT__CONST(IPV6_RECVFRAGSIZE),
#endif
#ifdef IPV6_RECVORIGDSTADDR
    WEFT__CONST(IPV6_RECVORIGDSTADDR),
#endif
#ifdef IPV6_ROUTER_ALERT
    WEFT__CONST(IPV6_ROUTER_ALERT),
#endif
#ifdef IPV6_ROUTER_ALERT_ISOLATE
    WEFT__CONST(IPV6_ROUTER_ALERT_ISOLATE),
#endif
#ifdef IPV6_RTHDR_LOOSE
    WEFT__CONST(IPV6_RTHDR_LOOSE),
#endif
#ifdef IPV6_RTHDR_STRICT
    WEFT__CONST(IPV6_RTHDR_STRICT),
#endif
#ifdef IPV6_RXDSTOPTS
    WEFT__CONST(IPV6_RXDSTOPTS),
#endif
#ifdef IPV6_RXHOPOPTS
    WEFT__CONST(IPV6_RXHOPOPTS),
#endif
#ifdef IPV6_TRANSPARENT
    WEFT__CONST(IPV6_TRANSPARENT),
#endif
#ifdef IPV6_UNICAST_IF
    WEFT__CONST(IPV6_UNICAST_IF),
#endif
#ifdef IPV6_XFRM_POLICY
    WEFT__CONST(IPV6_XFRM_POLICY),
#endif

    /* ---- IPPROTO_TCP options and limits ---- */
#ifdef TCP_NODELAY
    WEFT__CONST(TCP_NODELAY),
#endif
#ifdef TCP_MAXSEG
    WEFT__CONST(TCP_MAXSEG),
#endif
#ifdef TCP_CORK
    WEFT__CONST(TCP_CORK),
#endif
#ifdef TCP_KEEPIDLE
    WEFT__CONST(TCP_KEEPIDLE),
#endif
#if defined(TCP_KEEPALIVE) && defined(__APPLE__)
    WEFT__CONST(TCP_KEEPALIVE),
#endif
#ifdef TCP_KEEPINTVL
    WEFT__CONST(TCP_KEEPINTVL),
#endif
#ifdef TCP_KEEPCNT
    WEFT__CONST(TCP_KEEPCNT),
#endif
#ifdef TCP_SYNCNT
    WEFT__CONST(TCP_SYNCNT),
#endif
#ifdef TCP_LINGER2
    WEFT__CONST(TCP_LINGER2),
#endif
#ifdef TCP_DEFER_ACCEPT
    WEFT__CONST(TCP_DEFER_ACCEPT),
#endif
#ifdef TCP_WINDOW_CLAMP
    WEFT__CONST(TCP_WINDOW_CLAMP),
#endif
#ifdef TCP_INFO
    WEFT__CONST(TCP_INFO),
#endif
#ifdef TCP_CONNECTION_INFO
    WEFT__CONST(TCP_CONNECTION_INFO),
#endif
#ifdef TCP_QUICKACK
    WEFT__CONST(TCP_QUICKACK),
#endif
#ifdef TCP_CONGESTION
    WEFT__CONST(TCP_CONGESTION),
#endif
#ifdef TCP_MD5SIG
    WEFT__CONST(TCP_MD5SIG),
#endif
#ifdef TCP_THIN_LINEAR_TIMEOUTS
    WEFT__CONST(TCP_THIN_LINEAR_TIMEOUTS),
#endif
#ifdef TCP_THIN_DUPACK
    WEFT__CONST(TCP_THIN_DUPACK),
#endif
#ifdef TCP_USER_TIMEOUT
    WEFT__CONST(TCP_USER_TIMEOUT),
#endif
#ifdef TCP_REPAIR
    WEFT__CONST(TCP_REPAIR),
#endif
#ifdef TCP_REPAIR_QUEUE
    WEFT__CONST(TCP_REPAIR_QUEUE),
#endif
#ifdef TCP_QUEUE_SEQ
    WEFT__CONST(TCP_QUEUE_SEQ),
#endif
#ifdef TCP_REPAIR_OPTIONS
    WEFT__CONST(TCP_REPAIR_OPTIONS),
#endif
#ifdef TCP_FASTOPEN
    WEFT__CONST(TCP_FASTOPEN),
#endif
#ifdef TCP_TIMESTAMP
    WEFT__CONST(TCP_TIMESTAMP),
#endif
#ifdef TCP_NOTSENT_LOWAT
    WEFT__CONST(TCP_NOTSENT_LOWAT),
#endif
#ifdef TCP_CC_INFO
    WEFT__CONST(TCP_CC_INFO),
#endif
#ifdef TCP_SAVE_SYN
    WEFT__CONST(TCP_SAVE_SYN),
#endif
#ifdef TCP_SAVED_SYN
    WEFT__CONST(TCP_SAVED_SYN),
#endif
#ifdef TCP_REPAIR_WINDOW
    WEFT__CONST(TCP_REPAIR_WINDOW),
#endif
#ifdef TCP_FASTOPEN_CONNECT
    WEFT__CONST(TCP_FASTOPEN_CONNECT),
#endif
#ifdef TCP_ULP
    WEFT__CONST(TCP_ULP),
#endif
#ifdef TCP_MD5SIG_EXT
    WEFT__CONST(TCP_MD5SIG_EXT),
#endif
#ifdef TCP_FASTOPEN_KEY
    WEFT__CONST(TCP_FASTOPEN_KEY),
#endif
#ifdef TCP_FASTOPEN_NO_COOKIE
    WEFT__CONST(TCP_FASTOPEN_NO_COOKIE),
#endif
#ifdef TCP_ZEROCOPY_RECEIVE
    WEFT__CONST(TCP_ZEROCOPY_RECEIVE),
#endif
#ifdef TCP_INQ
    WEFT__CONST(TCP_INQ),
#endif
#ifdef TCP_TX_DELAY
    WEFT__CONST(TCP_TX_DELAY),
#endif
    /* the rest of this platform's TCP_* names */
#ifdef TCP_CM_INQ
    WEFT__CONST(TCP_CM_INQ),
#endif
#ifdef TCP_COOKIE_IN_ALWAYS
    WEFT__CONST(TCP_COOKIE_IN_ALWAYS),
#endif
#ifdef TCP_COOKIE_MAX
    WEFT__CONST(TCP_COOKIE_MAX),
#endif
#ifdef TCP_COOKIE_MIN
    WEFT__CONST(TCP_COOKIE_MIN),
#endif
#ifdef TCP_COOKIE_OUT_NEVER
    WEFT__CONST(TCP_COOKIE_OUT_NEVER),
#endif
#ifdef TCP_COOKIE_PAIR_SIZE
    WEFT__CONST(TCP_COOKIE_PAIR_SIZE),
#endif
#ifdef TCP_COOKIE_TRANSACTIONS
    WEFT__CONST(TCP_COOKIE_TRANSACTIONS),
#endif
#ifdef TCP_MAXWIN
    WEFT__CONST(TCP_MAXWIN),
#endif
#ifdef TCP_MAX_WINSHIFT
    WEFT__CONST(TCP_MAX_WINSHIFT),
#endif
#ifdef TCP_MD5SIG_FLAG_PREFIX
    WEFT__CONST(TCP_MD5SIG_FLAG_PREFIX),
#endif
#ifdef TCP_MD5SIG_MAXKEYLEN
    WEFT__CONST(TCP_MD5SIG_MAXKEYLEN),
#endif
#ifdef TCP_MSS
    WEFT__CONST(TCP_MSS),
#endif
#ifdef TCP_MSS_DEFAULT
    WEFT__CONST(TCP_MSS_DEFAULT),
#endif
#ifdef TCP_MSS_DESIRED
    WEFT__CONST(TCP_MSS_DESIRED),
#endif
#ifdef TCP_REPAIR_OFF
    WEFT__CONST(TCP_REPAIR_OFF),
#endif
#ifdef TCP_REPAIR_OFF_NO_WP
    WEFT__CONST(TCP_REPAIR_OFF_NO_WP),
#endif
#ifdef TCP_REPAIR_ON
    WEFT__CONST(TCP_REPAIR_ON),
#endif
#ifdef TCP_S_DATA_IN
    WEFT__CONST(TCP_S_DATA_IN),
#endif
#ifdef TCP_S_DATA_OUT
    WEFT__CONST(TCP_S_DATA_OUT),
#endif

    /* ---- TIPC (<linux/tipc.h>) ---- */
#ifdef TIPC_ADDR_NAMESEQ
    WEFT__CONST(TIPC_ADDR_NAMESEQ),
#endif
#ifdef TIPC_ADDR_NAME
    WEFT__CONST(TIPC_ADDR_NAME),
#endif
#ifdef TIPC_ADDR_ID
    WEFT__CONST(TIPC_ADDR_ID),
#endif
#ifdef TIPC_ZONE_SCOPE
    WEFT__CONST(TIPC_ZONE_SCOPE),
#endif
#ifdef WEFT__HAVE_TIPC
    WEFT__CONST(TIPC_CLUSTER_SCOPE),
#endif
#ifdef WEFT__HAVE_TIPC
    WEFT__CONST(TIPC_NODE_SCOPE),
#endif
#ifdef TIPC_IMPORTANCE
    WEFT__CONST(TIPC_IMPORTANCE),
#endif
#ifdef TIPC_SRC_DROPPABLE
    WEFT__CONST(TIPC_SRC_DROPPABLE),
#endif
#ifdef TIPC_DEST_DROPPABLE
    WEFT__CONST(TIPC_DEST_DROPPABLE),
#endif
#ifdef TIPC_CONN_TIMEOUT
    WEFT__CONST(TIPC_CONN_TIMEOUT),
#endif
#ifdef TIPC_LOW_IMPORTANCE
    WEFT__CONST(TIPC_LOW_IMPORTANCE),
#endif
#ifdef TIPC_MEDIUM_IMPORTANCE
    WEFT__CONST(TIPC_MEDIUM_IMPORTANCE),
#endif
#ifdef TIPC_HIGH_IMPORTANCE
    WEFT__CONST(TIPC_HIGH_IMPORTANCE),
#endif
#ifdef TIPC_CRITICAL_IMPORTANCE
    WEFT__CONST(TIPC_CRITICAL_IMPORTANCE),
#endif
#ifdef TIPC_SUB_PORTS
    WEFT__CONST(TIPC_SUB_PORTS),
#endif
#ifdef TIPC_SUB_SERVICE
    WEFT__CONST(TIPC_SUB_SERVICE),
#endif
#ifdef TIPC_SUB_CANCEL
    WEFT__CONST(TIPC_SUB_CANCEL),
#endif
#ifdef TIPC_WAIT_FOREVER
    WEFT__CONST(TIPC_WAIT_FOREVER),
#endif
#ifdef TIPC_PUBLISHED
    WEFT__CONST(TIPC_PUBLISHED),
#endif
#ifdef TIPC_WITHDRAWN
    WEFT__CONST(TIPC_WITHDRAWN),
#endif
#ifdef TIPC_SUBSCR_TIMEOUT
    WEFT__CONST(TIPC_SUBSCR_TIMEOUT),
#endif
#ifdef TIPC_CFG_SRV
    WEFT__CONST(TIPC_CFG_SRV),
#endif
#ifdef TIPC_TOP_SRV
    WEFT__CONST(TIPC_TOP_SRV),
#endif
    /* the rest of this platform's TIPC_* names */
#ifdef TIPC_ADDR_MCAST
    WEFT__CONST(TIPC_ADDR_MCAST),
#endif
#ifdef TIPC_AEAD_ALG_NAME
    WEFT__CONST(TIPC_AEAD_ALG_NAME),
#endif
#ifdef TIPC_AEAD_KEYLEN_MAX
    WEFT__CONST(TIPC_AEAD_KEYLEN_MAX),
#endif
#ifdef TIPC_AEAD_KEYLEN_MIN
    WEFT__CONST(TIPC_AEAD_KEYLEN_MIN),
#endif
#ifdef TIPC_AEAD_KEY_SIZE_MAX
    WEFT__CONST(TIPC_AEAD_KEY_SIZE_MAX),
#endif
#ifdef TIPC_CLUSTER_BITS
    WEFT__CONST(TIPC_CLUSTER_BITS),
#endif
#ifdef TIPC_CLUSTER_MASK
    WEFT__CONST(TIPC_CLUSTER_MASK),
#endif
#ifdef TIPC_CLUSTER_OFFSET
    WEFT__CONST(TIPC_CLUSTER_OFFSET),
#endif
#ifdef TIPC_CLUSTER_SIZE
    WEFT__CONST(TIPC_CLUSTER_SIZE),
#endif
#ifdef TIPC_CONN_SHUTDOWN
    WEFT__CONST(TIPC_CONN_SHUTDOWN),
#endif
#ifdef TIPC_DESTNAME
    WEFT__CONST(TIPC_DESTNAME),
#endif
#ifdef TIPC_ERRINFO
    WEFT__CONST(TIPC_ERRINFO),
#endif
#ifdef TIPC_ERR_NO_NAME
    WEFT__CONST(TIPC_ERR_NO_NAME),
#endif
#ifdef TIPC_ERR_NO_NODE
    WEFT__CONST(TIPC_ERR_NO_NODE),
#endif
#ifdef TIPC_ERR_NO_PORT
    WEFT__CONST(TIPC_ERR_NO_PORT),
#endif
#ifdef TIPC_ERR_OVERLOAD
    WEFT__CONST(TIPC_ERR_OVERLOAD),
#endif
#ifdef TIPC_GROUP_JOIN
    WEFT__CONST(TIPC_GROUP_JOIN),
#endif
#ifdef TIPC_GROUP_LEAVE
    WEFT__CONST(TIPC_GROUP_LEAVE),
#endif
#ifdef TIPC_GROUP_LOOPBACK
    WEFT__CONST(TIPC_GROUP_LOOPBACK),
#endif
#ifdef TIPC_GROUP_MEMBER_EVTS
    WEFT__CONST(TIPC_GROUP_MEMBER_EVTS),
#endif
#ifdef TIPC_LINK_STATE
    WEFT__CONST(TIPC_LINK_STATE),
#endif
#ifdef TIPC_MAX_BEARER_NAME
    WEFT__CONST(TIPC_MAX_BEARER_NAME),
#endif
#ifdef TIPC_MAX_IF_NAME
    WEFT__CONST(TIPC_MAX_IF_NAME),
#endif
#ifdef TIPC_MAX_LINK_NAME
    WEFT__CONST(TIPC_MAX_LINK_NAME),
#endif
#ifdef TIPC_MAX_MEDIA_NAME
    WEFT__CONST(TIPC_MAX_MEDIA_NAME),
#endif
#ifdef TIPC_MAX_USER_MSG_SIZE
    WEFT__CONST(TIPC_MAX_USER_MSG_SIZE),
#endif
#ifdef TIPC_MCAST_BROADCAST
    WEFT__CONST(TIPC_MCAST_BROADCAST),
#endif
#ifdef TIPC_MCAST_REPLICAST
    WEFT__CONST(TIPC_MCAST_REPLICAST),
#endif
#ifdef TIPC_NODEID_LEN
    WEFT__CONST(TIPC_NODEID_LEN),
#endif
#ifdef TIPC_NODELAY
    WEFT__CONST(TIPC_NODELAY),
#endif
#ifdef TIPC_NODE_BITS
    WEFT__CONST(TIPC_NODE_BITS),
#endif
#ifdef TIPC_NODE_MASK
    WEFT__CONST(TIPC_NODE_MASK),
#endif
#ifdef TIPC_NODE_OFFSET
    WEFT__CONST(TIPC_NODE_OFFSET),
#endif
#ifdef TIPC_NODE_RECVQ_DEPTH
    WEFT__CONST(TIPC_NODE_RECVQ_DEPTH),
#endif
#ifdef TIPC_NODE_SIZE
    WEFT__CONST(TIPC_NODE_SIZE),
#endif
#ifdef TIPC_NODE_STATE
    WEFT__CONST(TIPC_NODE_STATE),
#endif
#ifdef TIPC_OK
    WEFT__CONST(TIPC_OK),
#endif
#ifdef TIPC_REKEYING_NOW
    WEFT__CONST(TIPC_REKEYING_NOW),
#endif
#ifdef TIPC_RESERVED_TYPES
    WEFT__CONST(TIPC_RESERVED_TYPES),
#endif
#ifdef TIPC_RETDATA
    WEFT__CONST(TIPC_RETDATA),
#endif
#ifdef TIPC_SERVICE_ADDR
    WEFT__CONST(TIPC_SERVICE_ADDR),
#endif
#ifdef TIPC_SERVICE_RANGE
    WEFT__CONST(TIPC_SERVICE_RANGE),
#endif
#ifdef TIPC_SOCKET_ADDR
    WEFT__CONST(TIPC_SOCKET_ADDR),
#endif
#ifdef TIPC_SOCK_RECVQ_DEPTH
    WEFT__CONST(TIPC_SOCK_RECVQ_DEPTH),
#endif
#ifdef TIPC_SOCK_RECVQ_USED
    WEFT__CONST(TIPC_SOCK_RECVQ_USED),
#endif
#ifdef TIPC_ZONE_BITS
    WEFT__CONST(TIPC_ZONE_BITS),
#endif
#ifdef TIPC_ZONE_CLUSTER_MASK
    WEFT__CONST(TIPC_ZONE_CLUSTER_MASK),
#endif
#ifdef TIPC_ZONE_MASK
    WEFT__CONST(TIPC_ZONE_MASK),
#endif
#ifdef TIPC_ZONE_OFFSET
    WEFT__CONST(TIPC_ZONE_OFFSET),
#endif
#ifdef TIPC_ZONE_SIZE
    WEFT__CONST(TIPC_ZONE_SIZE),
#endif

    /* ---- getaddrinfo and getnameinfo errors ---- */
#ifdef EAI_ADDRFAMILY
    WEFT__CONST(EAI_ADDRFAMILY),
#endif
#ifdef EAI_AGAIN
    WEFT__CONST(EAI_AGAIN),
#endif
#ifdef EAI_BADFLAGS
    WEFT__CONST(EAI_BADFLAGS),
#endif
#ifdef EAI_FAIL
    WEFT__CONST(EAI_FAIL),
#endif
#ifdef EAI_FAMILY
    WEFT__CONST(EAI_FAMILY),
#endif
#ifdef EAI_MEMORY
    WEFT__CONST(EAI_MEMORY),
#endif
#ifdef EAI_NODATA
    WEFT__CONST(EAI_NODATA),
#endif
#ifdef EAI_NONAME
    WEFT__CONST(EAI_NONAME),
#endif
#ifdef EAI_OVERFLOW
    WEFT__CONST(EAI_OVERFLOW),
#endif
#ifdef EAI_SERVICE
    WEFT__CONST(EAI_SERVICE),
#endif
#ifdef EAI_SOCKTYPE
    WEFT__CONST(EAI_SOCKTYPE),
#endif
#ifdef EAI_SYSTEM
    WEFT__CONST(EAI_SYSTEM),
#endif
#ifdef EAI_BADHINTS
    WEFT__CONST(EAI_BADHINTS),
#endif
#ifdef EAI_PROTOCOL
    WEFT__CONST(EAI_PROTOCOL),
#endif
#ifdef EAI_MAX
    WEFT__CONST(EAI_MAX),
#endif
    /* the rest of this platform's EAI_* names */
#ifdef EAI_ALLDONE
    WEFT__CONST(EAI_ALLDONE),
#endif
#ifdef EAI_CANCELED
    WEFT__CONST(EAI_CANCELED),
#endif
#ifdef EAI_IDN_ENCODE
    WEFT__CONST(EAI_IDN_ENCODE),
#endif
#ifdef EAI_INPROGRESS
    WEFT__CONST(EAI_INPROGRESS),
#endif
#ifdef EAI_INTR
    WEFT__CONST(EAI_INTR),
#endif
#ifdef EAI_NOTCANCELED
    WEFT__CONST(EAI_NOTCANCELED),
#endif

    /* ---- getaddrinfo flags ---- */
#ifdef AI_PASSIVE
    WEFT__CONST(AI_PASSIVE),
#endif
#ifdef AI_CANONNAME
    WEFT__CONST(AI_CANONNAME),
#endif
#ifdef AI_NUMERICHOST
    WEFT__CONST(AI_NUMERICHOST),
#endif
#ifdef AI_NUMERICSERV
    WEFT__CONST(AI_NUMERICSERV),
#endif
#ifdef AI_MASK
    WEFT__CONST(AI_MASK),
#endif
#ifdef AI_ALL
    WEFT__CONST(AI_ALL),
#endif
#ifdef AI_V4MAPPED_CFG
    WEFT__CONST(AI_V4MAPPED_CFG),
#endif
#ifdef AI_ADDRCONFIG
    WEFT__CONST(AI_ADDRCONFIG),
#endif
#ifdef AI_V4MAPPED
    WEFT__CONST(AI_V4MAPPED),
#endif
#ifdef AI_DEFAULT
    WEFT__CONST(AI_DEFAULT),
#endif
    /* the rest of this platform's AI_* names */
#ifdef AI_CANONIDN
    WEFT__CONST(AI_CANONIDN),
#endif
#ifdef AI_IDN
    WEFT__CONST(AI_IDN),
#endif

    /* ---- getnameinfo flags and sizes ---- */
#ifdef NI_MAXHOST
    WEFT__CONST(NI_MAXHOST),
#endif
#ifdef NI_MAXSERV
    WEFT__CONST(NI_MAXSERV),
#endif
#ifdef NI_NOFQDN
    WEFT__CONST(NI_NOFQDN),
#endif
#ifdef NI_NUMERICHOST
    WEFT__CONST(NI_NUMERICHOST),
#endif
#ifdef NI_NAMEREQD
    WEFT__CONST(NI_NAMEREQD),
#endif
#ifdef NI_NUMERICSERV
    WEFT__CONST(NI_NUMERICSERV),
#endif
#ifdef NI_DGRAM
    WEFT__CONST(NI_DGRAM),
#endif
#ifdef NI_IDN
    WEFT__CONST(NI_IDN),
#endif

    /* ---- shutdown(2) ---- */
#ifdef SHUT_RD
    WEFT__CONST(SHUT_RD),
#endif
#ifdef SHUT_WR
    WEFT__CONST(SHUT_WR),
#endif
#ifdef SHUT_RDWR
    WEFT__CONST(SHUT_RDWR),
#endif

    /* ---- WSAIoctl (Windows <mstcpip.h>): RCVALL_* are enumerators, so
     * they come with SIO_RCVALL, as in CPython ---- */
#ifdef SIO_RCVALL
    WEFT__UCONST(SIO_RCVALL),
    WEFT__UCONST(SIO_KEEPALIVE_VALS),
#ifdef SIO_LOOPBACK_FAST_PATH
    WEFT__UCONST(SIO_LOOPBACK_FAST_PATH),
#endif
    WEFT__CONST(RCVALL_OFF),
    WEFT__CONST(RCVALL_ON),
    WEFT__CONST(RCVALL_SOCKETLEVELONLY),
#ifdef RCVALL_IPLEVEL
    WEFT__CONST(RCVALL_IPLEVEL),
#endif
#ifdef RCVALL_MAX
    WEFT__CONST(RCVALL_MAX),
#endif
#endif

    /* ---- poll(2) events ---- */
#ifdef POLLIN
    WEFT__CONST(POLLIN),
#endif
#ifdef POLLPRI
    WEFT__CONST(POLLPRI),
#endif
#ifdef POLLOUT
    WEFT__CONST(POLLOUT),
#endif
#ifdef POLLERR
    WEFT__CONST(POLLERR),
#endif
#ifdef POLLHUP
    WEFT__CONST(POLLHUP),
#endif
#ifdef POLLNVAL
    WEFT__CONST(POLLNVAL),
#endif
#ifdef POLLRDNORM
    WEFT__CONST(POLLRDNORM),
#endif
#ifdef POLLRDBAND
    WEFT__CONST(POLLRDBAND),
#endif
#ifdef POLLWRNORM
    WEFT__CONST(POLLWRNORM),
#endif
#ifdef POLLWRBAND
    WEFT__CONST(POLLWRBAND),
#endif
#ifdef POLLMSG
    WEFT__CONST(POLLMSG),
#endif
#ifdef POLLRDHUP
    WEFT__CONST(POLLRDHUP),
#endif
    /* the rest of this platform's POLL* names */
#ifdef POLLREMOVE
    WEFT__CONST(POLLREMOVE),
#endif

    /* ---- epoll events (EPOLLET and EPOLLONESHOT everywhere) ---- */
#ifdef EPOLLIN
    WEFT__UCONST(EPOLLIN),
#endif
#ifdef EPOLLOUT
    WEFT__UCONST(EPOLLOUT),
#endif
#ifdef EPOLLPRI
    WEFT__UCONST(EPOLLPRI),
#endif
#ifdef EPOLLERR
    WEFT__UCONST(EPOLLERR),
#endif
#ifdef EPOLLHUP
    WEFT__UCONST(EPOLLHUP),
#endif
#ifdef EPOLLRDHUP
    WEFT__UCONST(EPOLLRDHUP),
#endif
    WEFT__UCONST(EPOLLET),
    WEFT__UCONST(EPOLLONESHOT),
#ifdef EPOLLEXCLUSIVE
    WEFT__UCONST(EPOLLEXCLUSIVE),
#endif
#ifdef EPOLLRDNORM
    WEFT__UCONST(EPOLLRDNORM),
#endif
#ifdef EPOLLRDBAND
    WEFT__UCONST(EPOLLRDBAND),
#endif
#ifdef EPOLLWRNORM
    WEFT__UCONST(EPOLLWRNORM),
#endif
#ifdef EPOLLWRBAND
    WEFT__UCONST(EPOLLWRBAND),
#endif
#ifdef EPOLLMSG
    WEFT__UCONST(EPOLLMSG),
#endif
    /* the rest of this platform's EPOLL* names */
#ifdef EPOLLWAKEUP
    WEFT__UCONST(EPOLLWAKEUP),
#endif
#ifdef EPOLL_CLOEXEC
    WEFT__CONST(EPOLL_CLOEXEC),
#endif
#ifdef EPOLL_CTL_ADD
    WEFT__CONST(EPOLL_CTL_ADD),
#endif
#ifdef EPOLL_CTL_DEL
    WEFT__CONST(EPOLL_CTL_DEL),
#endif
#ifdef EPOLL_CTL_MOD
    WEFT__CONST(EPOLL_CTL_MOD),
#endif

    /* ---- weft's own ---- */
    WEFT__CONST(WEFT_SOCKADDR_MAX),
    WEFT__CONST(WEFT_POLLER_POLL),
};

const weft__constant_table weft__socket_constants =
    WEFT__TABLE(socket_constants);
