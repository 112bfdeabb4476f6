/* errno_table.c - errno names as constants (generated once from the
 * platform list; each guarded so that other platforms build). */
#include <errno.h>

#include "constant.h"

static const weft__constant errno_constants[] = {
#ifdef EPERM
    WEFT__CONST(EPERM),
#endif
#ifdef ENOENT
    WEFT__CONST(ENOENT),
#endif
#ifdef ESRCH
    WEFT__CONST(ESRCH),
#endif
#ifdef EINTR
    WEFT__CONST(EINTR),
#endif
#ifdef EIO
    WEFT__CONST(EIO),
#endif
#ifdef ENXIO
    WEFT__CONST(ENXIO),
#endif
#ifdef E2BIG
    WEFT__CONST(E2BIG),
#endif
#ifdef ENOEXEC
    WEFT__CONST(ENOEXEC),
#endif
#ifdef EBADF
    WEFT__CONST(EBADF),
#endif
#ifdef ECHILD
    WEFT__CONST(ECHILD),
#endif
#ifdef EAGAIN
    WEFT__CONST(EAGAIN),
#endif
#ifdef EWOULDBLOCK
    WEFT__CONST(EWOULDBLOCK),
#endif
#ifdef ENOMEM
    WEFT__CONST(ENOMEM),
#endif
#ifdef EACCES
    WEFT__CONST(EACCES),
#endif
#ifdef EFAULT
    WEFT__CONST(EFAULT),
#endif
#ifdef ENOTBLK
    WEFT__CONST(ENOTBLK),
#endif
#ifdef EBUSY
    WEFT__CONST(EBUSY),
#endif
#ifdef EEXIST
    WEFT__CONST(EEXIST),
#endif
#ifdef EXDEV
    WEFT__CONST(EXDEV),
#endif
#ifdef ENODEV
    WEFT__CONST(ENODEV),
#endif
#ifdef ENOTDIR
    WEFT__CONST(ENOTDIR),
#endif
#ifdef EISDIR
    WEFT__CONST(EISDIR),
#endif
#ifdef EINVAL
    WEFT__CONST(EINVAL),
#endif
#ifdef ENFILE
    WEFT__CONST(ENFILE),
#endif
#ifdef EMFILE
    WEFT__CONST(EMFILE),
#endif
#ifdef ENOTTY
    WEFT__CONST(ENOTTY),
#endif
#ifdef ETXTBSY
    WEFT__CONST(ETXTBSY),
#endif
#ifdef EFBIG
    WEFT__CONST(EFBIG),
#endif
#ifdef ENOSPC
    WEFT__CONST(ENOSPC),
#endif
#ifdef ESPIPE
    WEFT__CONST(ESPIPE),
#endif
#ifdef EROFS
    WEFT__CONST(EROFS),
#endif
#ifdef EMLINK
    WEFT__CONST(EMLINK),
#endif
#ifdef EPIPE
    WEFT__CONST(EPIPE),
#endif
#ifdef EDOM
    WEFT__CONST(EDOM),
#endif
#ifdef ERANGE
    WEFT__CONST(ERANGE),
#endif
#ifdef EDEADLK
    WEFT__CONST(EDEADLK),
#endif
#ifdef EDEADLOCK
    WEFT__CONST(EDEADLOCK),
#endif
#ifdef ENAMETOOLONG
    WEFT__CONST(ENAMETOOLONG),
#endif
#ifdef ENOLCK
    WEFT__CONST(ENOLCK),
#endif
#ifdef ENOSYS
    WEFT__CONST(ENOSYS),
#endif
#ifdef ENOTEMPTY
    WEFT__CONST(ENOTEMPTY),
#endif
#ifdef ELOOP
    WEFT__CONST(ELOOP),
#endif
#ifdef ENOMSG
    WEFT__CONST(ENOMSG),
#endif
#ifdef EIDRM
    WEFT__CONST(EIDRM),
#endif
#ifdef ECHRNG
    WEFT__CONST(ECHRNG),
#endif
#ifdef EL2NSYNC
    WEFT__CONST(EL2NSYNC),
#endif
#ifdef EL3HLT
    WEFT__CONST(EL3HLT),
#endif
#ifdef EL3RST
    WEFT__CONST(EL3RST),
#endif
#ifdef ELNRNG
    WEFT__CONST(ELNRNG),
#endif
#ifdef EUNATCH
    WEFT__CONST(EUNATCH),
#endif
#ifdef ENOCSI
    WEFT__CONST(ENOCSI),
#endif
#ifdef EL2HLT
    WEFT__CONST(EL2HLT),
#endif
#ifdef EBADE
    WEFT__CONST(EBADE),
#endif
#ifdef EBADR
    WEFT__CONST(EBADR),
#endif
#ifdef EXFULL
    WEFT__CONST(EXFULL),
#endif
#ifdef ENOANO
    WEFT__CONST(ENOANO),
#endif
#ifdef EBADRQC
    WEFT__CONST(EBADRQC),
#endif
#ifdef EBADSLT
    WEFT__CONST(EBADSLT),
#endif
#ifdef EBFONT
    WEFT__CONST(EBFONT),
#endif
#ifdef ENOSTR
    WEFT__CONST(ENOSTR),
#endif
#ifdef ENODATA
    WEFT__CONST(ENODATA),
#endif
#ifdef ETIME
    WEFT__CONST(ETIME),
#endif
#ifdef ENOSR
    WEFT__CONST(ENOSR),
#endif
#ifdef ENONET
    WEFT__CONST(ENONET),
#endif
#ifdef ENOPKG
    WEFT__CONST(ENOPKG),
#endif
#ifdef EREMOTE
    WEFT__CONST(EREMOTE),
#endif
#ifdef ENOLINK
    WEFT__CONST(ENOLINK),
#endif
#ifdef EADV
    WEFT__CONST(EADV),
#endif
#ifdef ESRMNT
    WEFT__CONST(ESRMNT),
#endif
#ifdef ECOMM
    WEFT__CONST(ECOMM),
#endif
#ifdef EPROTO
    WEFT__CONST(EPROTO),
#endif
#ifdef EMULTIHOP
    WEFT__CONST(EMULTIHOP),
#endif
#ifdef EDOTDOT
    WEFT__CONST(EDOTDOT),
#endif
#ifdef EBADMSG
    WEFT__CONST(EBADMSG),
#endif
#ifdef EOVERFLOW
    WEFT__CONST(EOVERFLOW),
#endif
#ifdef ENOTUNIQ
    WEFT__CONST(ENOTUNIQ),
#endif
#ifdef EBADFD
    WEFT__CONST(EBADFD),
#endif
#ifdef EREMCHG
    WEFT__CONST(EREMCHG),
#endif
#ifdef ELIBACC
    WEFT__CONST(ELIBACC),
#endif
#ifdef ELIBBAD
    WEFT__CONST(ELIBBAD),
#endif
#ifdef ELIBSCN
    WEFT__CONST(ELIBSCN),
#endif
#ifdef ELIBMAX
    WEFT__CONST(ELIBMAX),
#endif
#ifdef ELIBEXEC
    WEFT__CONST(ELIBEXEC),
#endif
#ifdef EILSEQ
    WEFT__CONST(EILSEQ),
#endif
#ifdef ERESTART
    WEFT__CONST(ERESTART),
#endif
#ifdef ESTRPIPE
    WEFT__CONST(ESTRPIPE),
#endif
#ifdef EUSERS
    WEFT__CONST(EUSERS),
#endif
#ifdef ENOTSOCK
    WEFT__CONST(ENOTSOCK),
#endif
#ifdef EDESTADDRREQ
    WEFT__CONST(EDESTADDRREQ),
#endif
#ifdef EMSGSIZE
    WEFT__CONST(EMSGSIZE),
#endif
#ifdef EPROTOTYPE
    WEFT__CONST(EPROTOTYPE),
#endif
#ifdef ENOPROTOOPT
    WEFT__CONST(ENOPROTOOPT),
#endif
#ifdef EPROTONOSUPPORT
    WEFT__CONST(EPROTONOSUPPORT),
#endif
#ifdef ESOCKTNOSUPPORT
    WEFT__CONST(ESOCKTNOSUPPORT),
#endif
#ifdef ENOTSUP
    WEFT__CONST(ENOTSUP),
#endif
#ifdef EOPNOTSUPP
    WEFT__CONST(EOPNOTSUPP),
#endif
#ifdef EPFNOSUPPORT
    WEFT__CONST(EPFNOSUPPORT),
#endif
#ifdef EAFNOSUPPORT
    WEFT__CONST(EAFNOSUPPORT),
#endif
#ifdef EADDRINUSE
    WEFT__CONST(EADDRINUSE),
#endif
#ifdef EADDRNOTAVAIL
    WEFT__CONST(EADDRNOTAVAIL),
#endif
#ifdef ENETDOWN
    WEFT__CONST(ENETDOWN),
#endif
#ifdef ENETUNREACH
    WEFT__CONST(ENETUNREACH),
#endif
#ifdef ENETRESET
    WEFT__CONST(ENETRESET),
#endif
#ifdef ECONNABORTED
    WEFT__CONST(ECONNABORTED),
#endif
#ifdef ECONNRESET
    WEFT__CONST(ECONNRESET),
#endif
#ifdef ENOBUFS
    WEFT__CONST(ENOBUFS),
#endif
#ifdef EISCONN
    WEFT__CONST(EISCONN),
#endif
#ifdef ENOTCONN
    WEFT__CONST(ENOTCONN),
#endif
#ifdef ESHUTDOWN
    WEFT__CONST(ESHUTDOWN),
#endif
#ifdef ETOOMANYREFS
    WEFT__CONST(ETOOMANYREFS),
#endif
#ifdef ETIMEDOUT
    WEFT__CONST(ETIMEDOUT),
#endif
#ifdef ECONNREFUSED
    WEFT__CONST(ECONNREFUSED),
#endif
#ifdef EHOSTDOWN
    WEFT__CONST(EHOSTDOWN),
#endif
#ifdef EHOSTUNREACH
    WEFT__CONST(EHOSTUNREACH),
#endif
#ifdef EALREADY
    WEFT__CONST(EALREADY),
#endif
#ifdef EINPROGRESS
    WEFT__CONST(EINPROGRESS),
#endif
#ifdef ESTALE
    WEFT__CONST(ESTALE),
#endif
#ifdef EUCLEAN
    WEFT__CONST(EUCLEAN),
#endif
#ifdef ENOTNAM
    WEFT__CONST(ENOTNAM),
#endif
#ifdef ENAVAIL
    WEFT__CONST(ENAVAIL),
#endif
#ifdef EISNAM
    WEFT__CONST(EISNAM),
#endif
#ifdef EREMOTEIO
    WEFT__CONST(EREMOTEIO),
#endif
#ifdef EDQUOT
    WEFT__CONST(EDQUOT),
#endif
#ifdef ENOMEDIUM
    WEFT__CONST(ENOMEDIUM),
#endif
#ifdef EMEDIUMTYPE
    WEFT__CONST(EMEDIUMTYPE),
#endif
#ifdef ECANCELED
    WEFT__CONST(ECANCELED),
#endif
#ifdef ENOKEY
    WEFT__CONST(ENOKEY),
#endif
#ifdef EKEYEXPIRED
    WEFT__CONST(EKEYEXPIRED),
#endif
#ifdef EKEYREVOKED
    WEFT__CONST(EKEYREVOKED),
#endif
#ifdef EKEYREJECTED
    WEFT__CONST(EKEYREJECTED),
#endif
#ifdef EOWNERDEAD
    WEFT__CONST(EOWNERDEAD),
#endif
#ifdef ENOTRECOVERABLE
    WEFT__CONST(ENOTRECOVERABLE),
#endif
#ifdef ERFKILL
    WEFT__CONST(ERFKILL),
#endif
};

const weft__constant_table weft__errno_constants = WEFT__TABLE(errno_constants);
