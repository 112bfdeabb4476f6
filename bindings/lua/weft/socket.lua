-- weft/socket.lua - sockets, select, pollers and buffered streams for Lua,
-- over weft.core: weft.socket, weft.select, weft.poller and weft.io.
--
--   local weft = require "weft"
--   local srv <close> = weft.socket.bind("127.0.0.1", 0)
--   local c <close> = weft.socket.connect("127.0.0.1", select(2, srv:getsockname()))
--   c:send("hello\n")
--   local peer = srv:accept()
--   print(peer:receive("l"))                         --> hello
--
-- `require "weft"` is the entry point: weft.lua loads this file, which
-- returns the function that installs the modules into the weft table.
--
-- At a glance (each function's comment below has the details):
--   weft.socket  new(family, type, proto), tcp(), tcp6(), udp(), udp6(),
--                unix(), pair(), fromfd(fd), connect(host, port, timeout)
--                (create_connection), bind(host, port, backlog) (a
--                listening server); getaddrinfo, getnameinfo,
--                gethostbyname[_ex], gethostbyaddr, gethostname, getfqdn,
--                getservbyname/port, getprotobyname, inet_pton/ntop/aton/
--                ntoa, htonl/ntohl/htons/ntohs, get/setdefaulttimeout,
--                has_ipv6, and the constants (AF_INET, SO_REUSEADDR, ...,
--                POLLIN, EPOLLET).
--   a socket     bind, listen, accept, connect, connect_ex, send (LuaSocket:
--                all of data:sub(i, j)), sendall, sendto, recv, recvfrom,
--                receive (LuaSocket patterns), settimeout, gettimeout,
--                setblocking, getblocking, getsockname, getpeername,
--                setoption/getoption (LuaSocket names), setsockopt/
--                getsockopt, shutdown, makefile, fileno, detach, dirty,
--                getfamily, gettype, getproto, close.
--   weft.select(readers, writers[, errors], timeout); weft.poller(backend)
--                with register, modify, unregister, wait, close.
--   weft.io      fdopen(fd, mode, buffering); a Stream has read (Lua's
--                formats), read1, lines, write, flush, settimeout,
--                gettimeout, fileno, readable, writable, close.
--
-- Errors and answers.  Every call here follows one rule:
--
--   * A failure raises a weft error value (code, name, message, detail,
--     where), as everywhere in weft: a bad argument (WEFT_EVALUE, a
--     negative size, a port out of range), a name that does not resolve
--     (WEFT_EGAI), a refused connection (ECONNREFUSED), an object used
--     after its close (WEFT_EBADHANDLE), ...
--   * Two outcomes of I/O are answers, not failures.  They come back as
--     LuaSocket's do, as nil and a string, then what was done before it
--     (the partial data of receive, the index of the last byte send sent,
--     the bytes sendall and write sent), then the error value if there is
--     one:
--       "timeout"  the socket's (or stream's) timeout ran out, or a
--                  non-blocking one could not go on at once (ETIMEDOUT,
--                  EAGAIN; EINPROGRESS for connect);
--       "closed"   the connection is gone: the peer closed it (the end of
--                  the stream, for recv, recvfrom and receive; EPIPE,
--                  ECONNRESET, ECONNABORTED), or another thread closed
--                  this socket or stream while the call waited
--                  (WEFT_ECLOSED).
--     They are the answers of accept, connect, send, sendall, sendto,
--     recv, recvfrom, receive, weft.socket.connect and the streams' read,
--     write and flush.  A stream's read gives nil alone at the end of the
--     stream ("a" gives ""), as Lua's files do.  weft.select answers a
--     timeout with empty lists and "timeout", a poller's wait with an
--     empty list.
--
-- Addresses are (host, port) pairs of arguments and results; an AF_INET6
-- one is (host, port, flowinfo, scope_id), an AF_UNIX one a path (a
-- string of any bytes: an abstract name starts with "\0").  A host is an
-- address or a name ("" and "*" are the wildcard, "<broadcast>" too for
-- AF_INET); a port is an integer or a service name ("http").
--
-- Timeouts are seconds: nil (or a negative number) blocks, 0 is
-- non-blocking, more sets the timeout of each call.  Sockets and streams
-- close when collected, closed, or at the end of a <close> variable's
-- scope; a blocking call of another thread on them then answers "closed".

return function(weft, P)

local core = weft.core
local C = weft.constants
local raise, class, new, handle_of = P.raise, P.class, P.new, P.handle_of

local error, getmetatable, ipairs, pairs, pcall, rawget, rawset, select,
      setmetatable, tostring, type =
  error, getmetatable, ipairs, pairs, pcall, rawget, rawset, select,
  setmetatable, tostring, type
local concat, unpack = table.concat, table.unpack
local mtype, tointeger = math.type, math.tointeger

local EVALUE = C.WEFT_EVALUE
local AF_INET, AF_INET6, AF_UNIX = C.AF_INET, C.AF_INET6, C.AF_UNIX
local SOCK_STREAM, SOCK_DGRAM = C.SOCK_STREAM, C.SOCK_DGRAM
local POLLIN, POLLOUT, POLLPRI = C.POLLIN, C.POLLOUT, C.POLLPRI
local TYPE_FLAGS = (C.SOCK_NONBLOCK or 0) | (C.SOCK_CLOEXEC or 0)

local socket_recv, socket_sendall = core.socket_recv, core.socket_sendall
local stream_read, stream_readline = core.stream_read, core.stream_readline
local stream_write = core.stream_write

-- ---- answers --------------------------------------------------------------

local TIMEOUT = {[-C.ETIMEDOUT] = true, [-C.EAGAIN] = true}
local CLOSED = {
  [C.WEFT_ECLOSED] = true, [-C.EPIPE] = true, [-C.ECONNRESET] = true,
  [-C.ECONNABORTED] = true,
}
if C.EWOULDBLOCK then TIMEOUT[-C.EWOULDBLOCK] = true end
local EINPROGRESS = -C.EINPROGRESS
local Error = weft.Error

-- "timeout" or "closed" for an error value that is one of the answers;
-- raises it again otherwise.
local function answer(err, connecting)
  if getmetatable(err) == Error then
    local code = err.code
    if TIMEOUT[code] or (connecting and code == EINPROGRESS) then
      return "timeout"
    end
    if CLOSED[code] then
      return "closed"
    end
  end
  error(err, 0)
end

-- ---- arguments ------------------------------------------------------------

-- An integer (a float with an integral value too), within lo..hi when
-- given.
local function integer(v, what, lo, hi)
  local i = type(v) == "number" and tointeger(v)
  if not i then
    raise(EVALUE, "%s must be an integer, not %s", what,
          mtype(v) or type(v))
  end
  if lo and (i < lo or i > hi) then
    raise(EVALUE, "%s must be %d..%d, not %d", what, lo, hi, i)
  end
  return i
end

-- What C takes as an int, and as a uint32_t.
local INT_MIN, INT_MAX, UINT32_MAX = -(1 << 31), (1 << 31) - 1, (1 << 32) - 1
local function int(v, what) return integer(v, what, INT_MIN, INT_MAX) end
local function uint32(v, what) return integer(v, what, 0, UINT32_MAX) end

-- A size: an integer >= 0.
local function size(n, what)
  n = integer(n, what)
  if n < 0 then
    raise(EVALUE, "%s must be >= 0, not %d", what, n)
  end
  return n
end

-- A number, a name of ours ("inet") or a constant's name ("AF_INET").
local function named(v, names, what, default)
  if v == nil then
    return default
  end
  if type(v) == "string" then
    local n = names[v] or C[v]
    if n == nil then
      raise(EVALUE, "unknown %s %q", what, v)
    end
    return n
  end
  return int(v, what)
end

local FAMILIES = {inet = AF_INET, inet6 = AF_INET6, unix = AF_UNIX,
                  unspec = C.AF_UNSPEC}
local TYPES = {stream = SOCK_STREAM, dgram = SOCK_DGRAM,
               seqpacket = C.SOCK_SEQPACKET, raw = C.SOCK_RAW}

-- Flags: a number, or a list of constant names ({"AI_PASSIVE", ...}).
local function flags_of(flags, what)
  if type(flags) ~= "table" then
    return flags == nil and 0 or int(flags, what)
  end
  local v = 0
  for _, name in ipairs(flags) do
    v = v | named(name, {}, what)
  end
  return v
end

-- A timeout in C's terms: nil or negative -1 (blocking), else seconds.
local function timeout_of(t)
  if t == nil then
    return -1
  end
  P.check_timeout(t)
  if t ~= t then
    raise(EVALUE, "timeout must not be NaN")
  end
  return t < 0 and -1 or t
end

local function bytes(data, what)
  local t = type(data)
  if t == "string" then
    return data
  elseif t == "number" then
    return tostring(data)
  end
  raise(EVALUE, "%s must be a string, not %s", what, t)
end

-- ---- addresses ------------------------------------------------------------

local function port_range(n)
  if n < 0 or n > 65535 then
    raise(EVALUE, "a port is 0-65535, not %d", n)
  end
  return n
end

local function port_of(port, proto)
  if port == nil then
    return 0
  end
  local n = type(port) == "number" and tointeger(port)
  if n then
    return port_range(n)
  end
  if type(port) == "string" then
    n = tonumber(port)
    if n and tointeger(n) then
      return port_range(tointeger(n))
    end
    return core.socket_getservbyname(port, proto)
  end
  raise(EVALUE, "a port is an integer or a service name, not %s",
        mtype(port) or type(port))
end

local function host_of(host)
  if host == nil or host == "*" then
    return ""
  end
  if type(host) ~= "string" then
    raise(EVALUE, "a host is a string, not %s", type(host))
  end
  return host
end

-- The sockaddr bytes for an address of `family`.
local function sockaddr(family, host, port, flowinfo, scope_id, proto)
  if family == AF_UNIX then
    if type(host) ~= "string" then
      raise(EVALUE, "an AF_UNIX address is a path (a string), not %s",
            type(host))
    end
    return core.sockaddr_make(AF_UNIX, host, 0, 0, 0)
  end
  return core.sockaddr_make(family, host_of(host), port_of(port, proto),
                            flowinfo == nil and 0 or uint32(flowinfo,
                                                             "flowinfo"),
                            scope_id == nil and 0 or uint32(scope_id,
                                                             "scope_id"))
end

-- sockaddr bytes as results: host, port (AF_INET); host, port, flowinfo,
-- scope_id (AF_INET6); path (AF_UNIX); the bytes themselves for another
-- family; nil for none.
local function unpack_addr(addr)
  if addr == "" then
    return nil
  end
  local ok, family, host, port, flowinfo, scope_id =
    pcall(core.sockaddr_parse, addr)
  if not ok then
    if family.code == -C.EAFNOSUPPORT then
      return addr
    end
    error(family, 0)
  end
  if family == AF_UNIX then
    return host
  elseif family == AF_INET6 then
    return host, port, flowinfo, scope_id
  end
  return host, port
end

-- ---- Socket ---------------------------------------------------------------

local socket = {}
weft.socket = socket

local Socket = class("Socket", C.WEFT_KIND_SOCKET)

local function socket_of(h, family, socktype)
  local s = new(Socket, h, true)
  rawset(s, "_family", family)
  rawset(s, "_type", socktype)
  return s
end

-- family, type: fixed for the socket's life, read once.
local function family_of(s)
  local f = rawget(s, "_family")
  if f == nil then
    f = core.socket_get_family(s.handle)
    rawset(s, "_family", f)
  end
  return f
end

local function type_of(s)
  local t = rawget(s, "_type")
  if t == nil then
    t = core.socket_get_type(s.handle)
    rawset(s, "_type", t)
  end
  return t
end

local function proto_name(s)
  return type_of(s) == SOCK_DGRAM and "udp" or "tcp"
end

local function addr_of(s, host, port, flowinfo, scope_id)
  return sockaddr(family_of(s), host, port, flowinfo, scope_id, proto_name(s))
end

-- receive() keeps what it read past a line in s._rbuf; recv and the next
-- receive take from there first.  A socket with such data is "dirty":
-- select and pollers report it readable (its descriptor may not be).
local dirty = setmetatable({}, {__mode = "k"})

local function set_rbuf(s, data)
  if data == nil or data == "" then
    rawset(s, "_rbuf", nil)
    dirty[s] = nil
  else
    rawset(s, "_rbuf", data)
    dirty[s] = true
  end
end

function Socket:close()
  set_rbuf(self, nil)
  P.close(self)
end

function Socket:fileno() return core.socket_fileno(self.handle) end
Socket.getfd = Socket.fileno

-- The descriptor, which becomes the caller's; the object is closed.
function Socket:detach()
  local fd = core.socket_detach(self.handle)
  rawset(self, "_closed", true)
  set_rbuf(self, nil)
  return fd
end

function Socket:getfamily() return family_of(self) end
function Socket:gettype() return type_of(self) end
function Socket:getproto() return core.socket_get_proto(self.handle) end

-- Whether receive() holds data that recv and receive will return first.
function Socket:dirty() return rawget(self, "_rbuf") ~= nil end

function Socket:bind(host, port, flowinfo, scope_id)
  core.socket_bind(self.handle, addr_of(self, host, port, flowinfo, scope_id))
  return true
end
Socket.setsockname = Socket.bind

function Socket:listen(backlog)
  core.socket_listen(self.handle, backlog == nil and C.SOMAXCONN
                                   or int(backlog, "backlog"))
  return true
end

-- client, then the peer's address (host, port, ...).
function Socket:accept()
  local ok, addr, h = pcall(core.socket_accept, self.handle)
  if not ok then
    return nil, answer(addr), nil, addr
  end
  return socket_of(h, rawget(self, "_family"), rawget(self, "_type")),
         unpack_addr(addr)
end

-- true once connected; nil, "timeout" when the timeout ran out or a
-- non-blocking connect is under way (wait for the socket to be writable,
-- then read getoption("error")).
function Socket:connect(host, port, flowinfo, scope_id)
  local addr = addr_of(self, host, port, flowinfo, scope_id)
  local ok, err = pcall(core.socket_connect, self.handle, addr)
  if ok then
    return true
  end
  return nil, answer(err, true), nil, err
end
Socket.setpeername = Socket.connect

-- Python's connect_ex: 0 once connected, else the errno value
-- (EINPROGRESS, ECONNREFUSED, ...; a timeout is EWOULDBLOCK).
function Socket:connect_ex(host, port, flowinfo, scope_id)
  return core.socket_connect_ex(self.handle,
                                addr_of(self, host, port, flowinfo, scope_id))
end

-- LuaSocket's send(data, i, j): send data:sub(i, j), all of it; the index
-- of the last byte sent (i - 1 + what went), also after a timeout or a
-- close (third value).
function Socket:send(data, i, j)
  data = bytes(data, "data")
  local len = #data
  i = i == nil and 1 or integer(i, "i")
  j = j == nil and len or integer(j, "j")
  if i < 0 then
    i = len + i + 1
  end
  if i < 1 then
    i = 1
  end
  if j < 0 then
    j = len + j + 1
  elseif j > len then
    j = len
  end
  local part = data
  if i ~= 1 or j ~= len then
    part = data:sub(i, j)
  end
  local ok, sent = pcall(socket_sendall, self.handle, part, 0)
  if ok then
    return i - 1 + sent
  end
  return nil, answer(sent), i - 1 + (sent.sent or 0), sent
end

-- Python's sendall: true once all of data went; after a timeout or a close
-- the third value is how many bytes went.
function Socket:sendall(data, flags)
  local ok, err = pcall(socket_sendall, self.handle, bytes(data, "data"),
                        flags == nil and 0 or flags_of(flags, "flags"))
  if ok then
    return true
  end
  return nil, answer(err), err.sent or 0, err
end

-- One datagram to an address (AF_UNIX: sendto(data, path)); the bytes
-- sent.
function Socket:sendto(data, host, port, flags, flowinfo, scope_id)
  data = bytes(data, "data")
  local addr = addr_of(self, host, port, flowinfo, scope_id)
  local ok, sent = pcall(core.socket_sendto, self.handle, data,
                         flags == nil and 0 or flags_of(flags, "flags"),
                         addr)
  if ok then
    return sent
  end
  return nil, answer(sent), 0, sent
end

local function default_size(s)
  return type_of(s) == SOCK_DGRAM and 65536 or 8192
end

-- Up to n bytes of what receive() kept.
local function take(s, buf, n)
  if n >= #buf then
    set_rbuf(s, nil)
    return buf
  end
  set_rbuf(s, buf:sub(n + 1))
  return buf:sub(1, n)
end

local MSG_PEEK = C.MSG_PEEK or 0

-- Python's recv: up to n bytes (default 8192, a datagram's 65536), as soon
-- as there are some; nil, "closed" at the end of a stream.  What receive()
-- kept comes first (MSG_PEEK leaves it there).
function Socket:recv(n, flags)
  n = n == nil and default_size(self) or size(n, "size")
  flags = flags == nil and 0 or flags_of(flags, "flags")
  local buf = rawget(self, "_rbuf")
  if buf then
    if flags & MSG_PEEK ~= 0 then
      return buf:sub(1, n)
    end
    return take(self, buf, n)
  end
  local ok, data = pcall(socket_recv, self.handle, flags, n)
  if not ok then
    return nil, answer(data), nil, data
  end
  if data == "" and n > 0 and type_of(self) ~= SOCK_DGRAM then
    return nil, "closed"
  end
  return data
end

-- data, then the sender's address (host, port, ...).
function Socket:recvfrom(n, flags)
  n = n == nil and default_size(self) or size(n, "size")
  local ok, data, addr = pcall(core.socket_recvfrom, self.handle,
                               flags == nil and 0 or flags_of(flags, "flags"),
                               n)
  if not ok then
    return nil, answer(data), nil, data
  end
  if data == "" and n > 0 and type_of(self) ~= SOCK_DGRAM then
    return nil, "closed"
  end
  return data, unpack_addr(addr)
end
Socket.receivefrom = Socket.recvfrom

local CHUNK = 8192
local MSG_WAITALL = C.MSG_WAITALL or 0

-- One recv for receive(): a chunk, or nil, the answer, the error value.
local function fill(s, n, flags)
  local ok, data = pcall(socket_recv, s.handle, flags, n)
  if not ok then
    return nil, answer(data), data
  end
  if data == "" then
    return nil, "closed"
  end
  return data
end

-- receive(n): exactly n bytes.
local function receive_count(s, n, prefix)
  local buf = rawget(s, "_rbuf") or ""
  if #buf >= n then
    return prefix .. take(s, buf, n)
  end
  set_rbuf(s, nil)
  local parts, have = {prefix, buf}, #buf
  while have < n do
    local chunk, why, err = fill(s, n - have, MSG_WAITALL)
    if not chunk then
      return nil, why, concat(parts), err
    end
    parts[#parts + 1] = chunk
    have = have + #chunk
  end
  return concat(parts)
end

-- receive("l") and receive("L"): a line, without its "\n" (and without
-- any "\r", as LuaSocket's "*l") or with it as it came.
local function receive_line(s, keep, prefix)
  local buf = rawget(s, "_rbuf") or ""
  local parts = {prefix}
  set_rbuf(s, nil)
  while true do
    local nl = buf:find("\n", 1, true)
    if nl then
      set_rbuf(s, buf:sub(nl + 1))
      parts[#parts + 1] = buf:sub(1, keep and nl or nl - 1)
      local line = concat(parts)
      return keep and line or line:gsub("\r", "")
    end
    parts[#parts + 1] = buf
    local why, err
    buf, why, err = fill(s, CHUNK, 0)
    if not buf then
      local partial = concat(parts)
      return nil, why, keep and partial or partial:gsub("\r", ""), err
    end
  end
end

-- receive("a"): everything until the peer closes.
local function receive_all(s, prefix)
  local parts = {prefix, rawget(s, "_rbuf")}
  set_rbuf(s, nil)
  while true do
    local chunk, why, err = fill(s, 65536, 0)
    if not chunk then
      if why == "closed" and err == nil then
        return concat(parts)
      end
      return nil, why, concat(parts), err
    end
    parts[#parts + 1] = chunk
  end
end

-- LuaSocket's receive(pattern, prefix): "l" (or "*l", the default) a line,
-- "L" a line with its end, "a" (or "*a") everything until the peer closes,
-- a number exactly that many bytes; prefix goes first.  Short of that:
-- nil, "timeout" | "closed", the partial data (give it back as prefix to
-- go on).  A datagram socket receives one datagram (up to the number).
function Socket:receive(pattern, prefix)
  prefix = prefix == nil and "" or bytes(prefix, "prefix")
  if type_of(self) == SOCK_DGRAM then
    local data, why, partial, err =
      self:recv(type(pattern) == "number" and size(pattern, "size") or nil)
    if data then
      return prefix .. data
    end
    return nil, why, partial, err
  end
  if pattern == nil then
    return receive_line(self, false, prefix)
  end
  if type(pattern) == "number" then
    return receive_count(self, size(pattern, "size"), prefix)
  end
  if pattern == "*l" or pattern == "l" then
    return receive_line(self, false, prefix)
  elseif pattern == "L" or pattern == "*L" then
    return receive_line(self, true, prefix)
  elseif pattern == "*a" or pattern == "a" then
    return receive_all(self, prefix)
  end
  raise(EVALUE, "receive: invalid pattern %s", tostring(pattern))
end

-- settimeout(t): nil (or negative) blocks, 0 is non-blocking, more is the
-- timeout of each call (LuaSocket's mode "b"; mode "t" is refused).
function Socket:settimeout(t, mode)
  if mode ~= nil and mode ~= "b" then
    raise(EVALUE, "settimeout: mode %s is not supported (only \"b\")",
          tostring(mode))
  end
  core.socket_set_timeout(self.handle, timeout_of(t))
  return true
end

-- nil when blocking, as Python's None.
function Socket:gettimeout()
  local t = core.socket_get_timeout(self.handle)
  if t < 0 then
    return nil
  end
  return t
end

function Socket:setblocking(blocking)
  if type(blocking) ~= "boolean" then
    raise(EVALUE, "blocking must be a boolean, not %s", type(blocking))
  end
  core.socket_set_blocking(self.handle, blocking and 1 or 0)
  return true
end

function Socket:getblocking() return core.socket_get_blocking(self.handle) end

function Socket:getsockname()
  return unpack_addr(core.socket_getsockname(self.handle))
end

function Socket:getpeername()
  return unpack_addr(core.socket_getpeername(self.handle))
end

local SHUT = {both = C.SHUT_RDWR, send = C.SHUT_WR, receive = C.SHUT_RD}

-- shutdown(how): "both" (the default), "send", "receive", or SHUT_*.
function Socket:shutdown(how)
  core.socket_shutdown(self.handle, named(how, SHUT, "shutdown mode",
                                          C.SHUT_RDWR))
  return true
end

-- Python's makefile(mode, buffering): a Stream over a duplicate of the
-- descriptor, with the socket's timeout (see weft.io).  It does not see
-- what receive() kept.
function Socket:makefile(mode, buffering)
  local h = core.socket_makefile(self.handle, mode or "r",
                                 buffering == nil and -1
                                   or integer(buffering, "buffering"))
  return new(weft.io.Stream, h, true)
end

-- ---- options --------------------------------------------------------------

local SOL_SOCKET, IPPROTO_TCP = C.SOL_SOCKET, C.IPPROTO_TCP
local IPPROTO_IP, IPPROTO_IPV6 = C.IPPROTO_IP, C.IPPROTO_IPV6

-- LuaSocket's option names: level, name, how the value is encoded.
local OPTIONS = {}
local function option(name, level, opt, kind)
  if level ~= nil and opt ~= nil then
    OPTIONS[name] = {level, opt, kind}
  end
end
option("keepalive", SOL_SOCKET, C.SO_KEEPALIVE, "bool")
option("reuseaddr", SOL_SOCKET, C.SO_REUSEADDR, "bool")
option("reuseport", SOL_SOCKET, C.SO_REUSEPORT, "bool")
option("broadcast", SOL_SOCKET, C.SO_BROADCAST, "bool")
option("dontroute", SOL_SOCKET, C.SO_DONTROUTE, "bool")
option("linger", SOL_SOCKET, C.SO_LINGER, "linger")
option("send-buffer-size", SOL_SOCKET, C.SO_SNDBUF, "int")
option("recv-buffer-size", SOL_SOCKET, C.SO_RCVBUF, "int")
option("error", SOL_SOCKET, C.SO_ERROR, "int")
option("tcp-nodelay", IPPROTO_TCP, C.TCP_NODELAY, "bool")
option("tcp-keepidle", IPPROTO_TCP, C.TCP_KEEPIDLE, "int")
option("tcp-keepcnt", IPPROTO_TCP, C.TCP_KEEPCNT, "int")
option("tcp-keepintvl", IPPROTO_TCP, C.TCP_KEEPINTVL, "int")
option("tcp-defer-accept", IPPROTO_TCP, C.TCP_DEFER_ACCEPT, "int")
option("tcp-fastopen", IPPROTO_TCP, C.TCP_FASTOPEN, "int")
option("tcp-fastopen-connect", IPPROTO_TCP, C.TCP_FASTOPEN_CONNECT, "bool")
option("ip-multicast-ttl", IPPROTO_IP, C.IP_MULTICAST_TTL, "int")
option("ip-multicast-loop", IPPROTO_IP, C.IP_MULTICAST_LOOP, "bool")
option("ip-multicast-if", IPPROTO_IP, C.IP_MULTICAST_IF, "inaddr")
option("ip-add-membership", IPPROTO_IP, C.IP_ADD_MEMBERSHIP, "mreq")
option("ip-drop-membership", IPPROTO_IP, C.IP_DROP_MEMBERSHIP, "mreq")
option("ipv6-v6only", IPPROTO_IPV6, C.IPV6_V6ONLY, "bool")
option("ipv6-unicast-hops", IPPROTO_IPV6, C.IPV6_UNICAST_HOPS, "int")
option("ipv6-multicast-hops", IPPROTO_IPV6, C.IPV6_MULTICAST_HOPS, "int")
option("ipv6-multicast-loop", IPPROTO_IPV6, C.IPV6_MULTICAST_LOOP, "bool")
option("ipv6-multicast-if", IPPROTO_IPV6, C.IPV6_MULTICAST_IF, "int")
option("ipv6-add-membership", IPPROTO_IPV6,
       C.IPV6_ADD_MEMBERSHIP or C.IPV6_JOIN_GROUP, "mreq6")
option("ipv6-drop-membership", IPPROTO_IPV6,
       C.IPV6_DROP_MEMBERSHIP or C.IPV6_LEAVE_GROUP, "mreq6")

local function option_of(name)
  local o = OPTIONS[name]
  if o == nil then
    raise(EVALUE, "unknown socket option %s", tostring(name))
  end
  return o
end

local function inaddr(text, what)
  if type(text) ~= "string" then
    raise(EVALUE, "%s must be an IPv4 address, not %s", what, type(text))
  end
  return core.socket_inet_pton(AF_INET, text, 4)
end

local ENCODE = {
  bool = function(v) return v and 1 or 0 end,
  int = function(v) return int(v, "the option's value") end,
  linger = function(v)
    if type(v) ~= "table" then
      raise(EVALUE, "linger is {on = boolean, timeout = seconds}")
    end
    return string.pack("=ii", v.on and 1 or 0,
                       v.timeout == nil and 0 or int(v.timeout, "timeout"))
  end,
  inaddr = function(v) return inaddr(v, "the interface") end,
  mreq = function(v)
    if type(v) ~= "table" then
      raise(EVALUE, "membership is {multiaddr = ..., interface = ...}")
    end
    return inaddr(v.multiaddr, "multiaddr")
           .. inaddr(v.interface or "0.0.0.0", "interface")
  end,
  mreq6 = function(v)
    if type(v) ~= "table" or type(v.multiaddr) ~= "string" then
      raise(EVALUE, "membership is {multiaddr = ..., interface = index}")
    end
    return core.socket_inet_pton(AF_INET6, v.multiaddr, 16)
           .. string.pack("=I4", v.interface == nil and 0
                                   or uint32(v.interface, "interface"))
  end,
}

-- setoption(name, value) by LuaSocket's names: "tcp-nodelay",
-- "reuseaddr", "keepalive", "linger" ({on =, timeout =}),
-- "ip-add-membership" ({multiaddr =, interface =}), ...
function Socket:setoption(name, value)
  local o = option_of(name)
  local v = ENCODE[o[3]](value)
  if type(v) == "string" then
    core.socket_setsockopt_bytes(self.handle, o[1], o[2], v)
  else
    core.socket_setsockopt(self.handle, o[1], o[2], v)
  end
  return true
end

function Socket:getoption(name)
  local o = option_of(name)
  local kind, h = o[3], self.handle
  if kind == "bool" then
    return core.socket_getsockopt(h, o[1], o[2]) ~= 0
  elseif kind == "int" then
    return core.socket_getsockopt(h, o[1], o[2])
  elseif kind == "linger" then
    local on, t = string.unpack("=ii",
                                core.socket_getsockopt_bytes(h, o[1], o[2], 8))
    return {on = on ~= 0, timeout = t}
  elseif kind == "inaddr" then
    return core.socket_inet_ntop(AF_INET,
                                 core.socket_getsockopt_bytes(h, o[1], o[2], 4))
  end
  raise(EVALUE, "socket option %s can only be set", name)
end

-- The raw calls: level and name are numbers or constant names
-- ("SOL_SOCKET", "SO_REUSEADDR"); a value is an integer, a boolean or a
-- string of bytes.
function Socket:setsockopt(level, name, value)
  level = named(level, {}, "level")
  name = named(name, {}, "option")
  if type(value) == "string" then
    core.socket_setsockopt_bytes(self.handle, level, name, value)
  elseif type(value) == "boolean" then
    core.socket_setsockopt(self.handle, level, name, value and 1 or 0)
  else
    core.socket_setsockopt(self.handle, level, name, int(value, "value"))
  end
  return true
end

-- An integer, or with buflen (1..1024) the option's bytes.
function Socket:getsockopt(level, name, buflen)
  level = named(level, {}, "level")
  name = named(name, {}, "option")
  if buflen == nil then
    return core.socket_getsockopt(self.handle, level, name)
  end
  return core.socket_getsockopt_bytes(self.handle, level, name,
                                      size(buflen, "buflen"))
end

-- ---- making sockets -------------------------------------------------------

-- new(family, type, proto): family AF_INET (the default), AF_INET6,
-- AF_UNIX or "inet", "inet6", "unix"; type SOCK_STREAM (the default),
-- SOCK_DGRAM, ... or "stream", "dgram", "seqpacket", "raw".
function socket.new(family, socktype, proto)
  family = named(family, FAMILIES, "family", AF_INET)
  socktype = named(socktype, TYPES, "type", SOCK_STREAM)
  proto = proto == nil and 0 or int(proto, "proto")
  return socket_of(core.socket_new(family, socktype, proto), family,
                   socktype & ~TYPE_FLAGS)
end

function socket.tcp(family) return socket.new(family, SOCK_STREAM) end
function socket.tcp6() return socket.new(AF_INET6, SOCK_STREAM) end
function socket.udp(family) return socket.new(family, SOCK_DGRAM) end
function socket.udp6() return socket.new(AF_INET6, SOCK_DGRAM) end
function socket.unix(socktype) return socket.new(AF_UNIX, socktype) end

-- A connected pair (AF_UNIX, SOCK_STREAM by default).
function socket.pair(family, socktype, proto)
  family = named(family, FAMILIES, "family", AF_UNIX)
  socktype = named(socktype, TYPES, "type", SOCK_STREAM)
  local a, b = core.socket_pair_new(family, socktype,
                                    proto == nil and 0 or int(proto, "proto"))
  socktype = socktype & ~TYPE_FLAGS
  return socket_of(a, family, socktype), socket_of(b, family, socktype)
end

-- A socket over a duplicate of fd (which stays the caller's); family, type
-- and proto are read from it when not given.
function socket.fromfd(fd, family, socktype, proto)
  local h = core.socket_fromfd_new(int(fd, "fd"),
                                   named(family, FAMILIES, "family", -1),
                                   named(socktype, TYPES, "type", -1),
                                   proto == nil and -1 or int(proto, "proto"))
  return socket_of(h)
end

local function port_text(port, what)
  if port == nil then
    return nil
  end
  if type(port) == "string" then
    local n = tonumber(port)
    if n and tointeger(n) then -- getaddrinfo(3) would wrap "70000"
      port_range(tointeger(n))
    end
    return port
  end
  return tostring(port_range(integer(port, what)))
end

-- Python's create_connection: a TCP socket connected to (host, port),
-- trying each address the name has; timeout (nil: the default timeout)
-- stays the socket's.  nil, "timeout" if the last try ran out of time.
function socket.connect(host, port, timeout, source_host, source_port)
  if type(host) ~= "string" then
    raise(EVALUE, "a host is a string, not %s", type(host))
  end
  local t = timeout == nil and core.socket_get_default_timeout()
            or timeout_of(timeout)
  if source_host ~= nil then
    source_host = host_of(source_host)
  end
  local ok, h = pcall(core.socket_create_connection, host,
                      port_text(port, "port"), t, source_host,
                      port_text(source_port, "source_port"))
  if not ok then
    return nil, answer(h), nil, h
  end
  return socket_of(h, nil, SOCK_STREAM)
end

-- A listening TCP socket (LuaSocket's bind): the first address of
-- (host, port) that binds, with "reuseaddr" set; host nil or "*" is every
-- interface.
function socket.bind(host, port, backlog)
  if host == "*" or host == "" then
    host = nil
  end
  local last
  for _, ai in ipairs(socket.getaddrinfo(host, port or 0,
                                         {type = SOCK_STREAM,
                                          flags = C.AI_PASSIVE})) do
    local s = socket.new(ai.family, ai.type, ai.proto)
    s:setoption("reuseaddr", true)
    local ok, err = pcall(core.socket_bind, s.handle, ai.sockaddr)
    if ok then
      s:listen(backlog)
      return s
    end
    s:close()
    last = err
  end
  error(last or core.error(-C.EADDRNOTAVAIL, "bind: no address to bind to"))
end

-- ---- names ----------------------------------------------------------------

local function read_addrinfo(ai)
  local list = {}
  for i = 0, core.addrinfo_count(ai) - 1 do
    local family, socktype, proto, addr = core.addrinfo_get(ai, i)
    local e = {family = family, type = socktype, proto = proto,
               canonname = core.addrinfo_canonname(ai, i), sockaddr = addr}
    local host, port, flowinfo, scope_id = unpack_addr(addr)
    if family == AF_INET or family == AF_INET6 then
      e.host, e.port = host, port
      e.flowinfo, e.scope_id = flowinfo, scope_id
    end
    list[#list + 1] = e
  end
  return list
end

-- getaddrinfo(host, port, {family =, type =, proto =, flags =}): a list
-- of {family, type, proto, canonname, host, port[, flowinfo, scope_id],
-- sockaddr (the address's bytes)}.  host or port may be nil (or "");
-- flags is a number or a list of names ({"AI_PASSIVE"}).
function socket.getaddrinfo(host, port, hints)
  hints = hints or {}
  if host == "" then
    host = nil
  end
  if host ~= nil and type(host) ~= "string" then
    raise(EVALUE, "a host is a string or nil, not %s", type(host))
  end
  if port == "" then
    port = nil
  end
  local ai = core.addrinfo_new(host, port_text(port, "port"),
                               named(hints.family, FAMILIES, "family", 0),
                               named(hints.type, TYPES, "type", 0),
                               hints.proto == nil and 0
                                 or int(hints.proto, "proto"),
                               flags_of(hints.flags, "flags"))
  local ok, list = pcall(read_addrinfo, ai)
  core.close(ai)
  if not ok then
    error(list, 0)
  end
  return list
end

-- getnameinfo(host, port, flags): host and service as text (NI_* flags:
-- a number or a list of names).
function socket.getnameinfo(host, port, flags)
  host = host_of(host)
  local family = host:find(":", 1, true) and AF_INET6 or AF_INET
  return core.socket_getnameinfo(sockaddr(family, host, port),
                                 flags_of(flags, "flags"))
end

local function words(s)
  local list = {}
  for w in s:gmatch("%S+") do
    list[#list + 1] = w
  end
  return list
end

local function host_triple(text)
  local name, aliases, addrs = text:match("^([^\n]*)\n([^\n]*)\n([^\n]*)$")
  return name, words(aliases or ""), words(addrs or "")
end

function socket.gethostbyname(name) return core.socket_gethostbyname(name) end

-- hostname, aliases (a list), addresses (a list).
function socket.gethostbyname_ex(name)
  return host_triple(core.socket_gethostbyname_ex(name))
end

function socket.gethostbyaddr(address)
  return host_triple(core.socket_gethostbyaddr(address))
end

function socket.gethostname() return core.socket_gethostname() end
function socket.getfqdn(name) return core.socket_getfqdn(name) end

function socket.getservbyname(name, proto)
  return core.socket_getservbyname(name, proto)
end

function socket.getservbyport(port, proto)
  return core.socket_getservbyport(int(port, "port"), proto)
end

function socket.getprotobyname(name) return core.socket_getprotobyname(name) end

-- ---- address and byte-order helpers ---------------------------------------

function socket.inet_aton(text) return core.socket_inet_aton(text, 4) end
function socket.inet_ntoa(packed) return core.socket_inet_ntoa(packed) end

function socket.inet_pton(family, text)
  return core.socket_inet_pton(named(family, FAMILIES, "family"), text, 16)
end

function socket.inet_ntop(family, packed)
  return core.socket_inet_ntop(named(family, FAMILIES, "family"), packed)
end

function socket.htonl(x) return core.socket_htonl(x) end
function socket.ntohl(x) return core.socket_ntohl(x) end
function socket.htons(x) return core.socket_htons(x) end
function socket.ntohs(x) return core.socket_ntohs(x) end

socket.has_ipv6 = core.socket_has_ipv6()

-- The timeout new sockets start with: nil (blocking) until set.
function socket.getdefaulttimeout()
  local t = core.socket_get_default_timeout()
  if t < 0 then
    return nil
  end
  return t
end

function socket.setdefaulttimeout(t)
  core.socket_set_default_timeout(timeout_of(t))
end

-- The socket and select modules' constants, by their names.
local PREFIXES = {
  "AF_", "SOCK_", "SO_", "SOL_", "SCM_", "MSG_", "IPPROTO_", "IPPORT_",
  "INADDR_", "IP_", "IPV6_", "TCP_", "TIPC_", "EAI_", "AI_", "NI_", "SHUT_",
  "SIO_", "RCVALL_", "POLL", "EPOLL",
}
for name, value in pairs(C) do
  for _, p in ipairs(PREFIXES) do
    if name:sub(1, #p) == p then
      socket[name] = value
      break
    end
  end
end
socket.SOMAXCONN = C.SOMAXCONN
socket.Socket = Socket

-- ---- select ---------------------------------------------------------------

-- The handles of a list of objects (sockets, Events) or handles, noting
-- handle -> object in map, and the dirty sockets in `pre`.
local function handles_of(list, map, pre)
  local hs = {}
  if list == nil then
    return hs
  end
  if type(list) ~= "table" then
    raise(EVALUE, "select: a list is a table, not %s", type(list))
  end
  for i = 1, #list do
    local obj = list[i]
    local h = mtype(obj) == "integer" and obj
              or handle_of(obj, "an item of select's lists")
    hs[i] = h
    map[h] = obj
    if pre and dirty[obj] then
      pre[#pre + 1] = obj
    end
  end
  return hs
end

-- The ready objects: a list, also keyed by object (t[obj] = its index).
local function ready_list(hs, map, pre)
  local out = {}
  for _, obj in ipairs(pre or {}) do
    if not out[obj] then
      out[#out + 1] = obj
      out[obj] = #out
    end
  end
  for _, h in ipairs(hs) do
    local obj = map[h]
    if mtype(obj) == "integer" then
      out[#out + 1] = obj
    elseif not out[obj] then
      out[#out + 1] = obj
      out[obj] = #out
    end
  end
  return out
end

-- weft.select(readers, writers, timeout) or (readers, writers, errors,
-- timeout): wait until some of the sockets and Events (readable while
-- set) or handles are ready; the ready ones of each list, as LuaSocket's
-- select gives them (arrays, also keyed by object), and "timeout" when
-- none was ready in time.  A timeout of nil (or negative) waits forever.
-- A socket whose receive() kept data is readable at once.
function weft.select(readers, writers, errors, timeout)
  local three = type(errors) == "table"
  if not three then
    errors, timeout = nil, errors
  end
  local map, pre = {}, {}
  local rh = handles_of(readers, map, pre)
  local wh = handles_of(writers, map)
  local xh = handles_of(errors, map)
  local t = timeout_of(timeout)
  if #pre > 0 then
    t = 0
  end
  local r, w, x = core.select_wait(rh, wh, xh, t)
  local R, W = ready_list(r, map, pre), ready_list(w, map)
  local X = ready_list(x, map)
  local err = (#R == 0 and #W == 0 and #X == 0) and "timeout" or nil
  if three then
    return R, W, X, err
  end
  return R, W, err
end

-- ---- pollers --------------------------------------------------------------

local Poller = class("Poller", C.WEFT_KIND_POLLER)

-- A poller watches sockets, Events, streams and raw descriptors
-- (integers).  weft.poller("poll") uses poll(2) instead of epoll.
function weft.poller(backend)
  local flags = 0
  if backend == "poll" then
    flags = C.WEFT_POLLER_POLL or 1
  elseif backend ~= nil and backend ~= "epoll" then
    raise(EVALUE, "poller backend is \"epoll\" or \"poll\", not %s",
          tostring(backend))
  end
  return new(Poller, core.poller_new(flags), true)
end

-- Registrations: target -> {key, events, id, target} (an ephemeron: the
-- poller does not keep a target alive; a collected target is closed, which
-- unregisters it), and id (weft's int64 key) -> the same record.
local function regs_of(p)
  local regs = rawget(p, "_regs")
  if regs == nil then
    regs = setmetatable({}, {__mode = "k"})
    rawset(p, "_regs", regs)
    rawset(p, "_ids", setmetatable({}, {__mode = "v"}))
    rawset(p, "_next", 0)
  end
  return regs, rawget(p, "_ids")
end

-- A target's handle, or its descriptor (a stream, a raw fd).
local function target_of(target)
  if mtype(target) == "integer" then
    return nil, target
  end
  if getmetatable(target) == weft.io.Stream then
    return nil, core.stream_fileno(target.handle)
  end
  return handle_of(target, "a poller's target")
end

local EVENT_LETTERS = {r = POLLIN, w = POLLOUT}

-- Events: a mask of POLL* and EPOLL* bits, or "r", "w", "rw".
local function events_of(events)
  if events == nil then
    return POLLIN | POLLPRI | POLLOUT
  end
  if type(events) == "string" then
    local v = 0
    for c in events:gmatch(".") do
      local bit = EVENT_LETTERS[c]
      if bit == nil then
        raise(EVALUE, "events %q: only r and w are letters", events)
      end
      v = v | bit
    end
    return v
  end
  return uint32(events, "events")
end

-- register(target, events, key): a wait reports key (default: the target)
-- with the ready bits.  events default to POLLIN | POLLPRI | POLLOUT, as
-- in Python.  EPOLLET and EPOLLONESHOT work with either backend.  Close
-- (or unregister) a descriptor's registration before closing it.
function Poller:register(target, events, key)
  local h, fd = target_of(target)
  local ev = events_of(events)
  local regs, ids = regs_of(self)
  local id = rawget(self, "_next") + 1
  rawset(self, "_next", id)
  if h then
    core.poller_register(self.handle, h, ev, id)
  else
    core.poller_register_fd(self.handle, fd, ev, id)
  end
  local reg = {key = key == nil and target or key, events = ev, id = id,
               target = target}
  regs[target] = reg
  ids[id] = reg
  return true
end

-- modify(target, events, key): new events (and key, if given); re-arms an
-- EPOLLONESHOT registration.
function Poller:modify(target, events, key)
  local h, fd = target_of(target)
  local ev = events_of(events)
  local regs = regs_of(self)
  local reg = regs[target]
  local id = reg and reg.id or 0
  if h then
    core.poller_modify(self.handle, h, ev, id)
  else
    core.poller_modify_fd(self.handle, fd, ev, id)
  end
  if reg == nil then -- registered by another state: it now reports key
    reg = {key = key == nil and target or key, id = id, target = target}
    regs[target], rawget(self, "_ids")[id] = reg, reg
  end
  reg.events = ev
  if key ~= nil then
    reg.key = key
  end
  return true
end

function Poller:unregister(target)
  local regs, ids = regs_of(self)
  local reg = regs[target]
  if reg and type(target) == "table" and rawget(target, "_closed") then
    regs[target], ids[reg.id] = nil, nil -- its close unregistered it
    return true
  end
  local h, fd = target_of(target)
  if h then
    core.poller_unregister(self.handle, h)
  else
    core.poller_unregister_fd(self.handle, fd)
  end
  if reg then
    regs[target], ids[reg.id] = nil, nil
  end
  return true
end

-- wait(timeout, max): a list of {key =, events =} for up to max (64)
-- ready registrations; more are reported by the next wait.  Empty when
-- timeout (nil or negative: forever) ran out.  A registered socket whose
-- receive() kept data is reported readable at once.
function Poller:wait(timeout, max)
  local t = timeout_of(timeout)
  max = max == nil and 64 or integer(max, "max")
  local regs, ids = regs_of(self)
  local out, seen = {}, nil
  for obj in pairs(dirty) do
    local reg = regs[obj]
    if reg and reg.events & POLLIN ~= 0 and #out < max then
      local e = {key = reg.key, events = POLLIN}
      out[#out + 1] = e
      seen = seen or {}
      seen[reg.id] = e
    end
  end
  if #out > 0 then
    t = 0
  end
  local keys, events = core.poller_poll(self.handle, t, max)
  for i = 1, #keys do
    local reg = ids[keys[i]]
    if reg then
      local e = seen and seen[reg.id]
      if e then
        e.events = e.events | events[i]
      else
        out[#out + 1] = {key = reg.key, events = events[i]}
      end
    end
  end
  return out
end
Poller.poll = Poller.wait

-- ---- io: buffered streams -------------------------------------------------

local io = {}
weft.io = io

local Stream = class("Stream", C.WEFT_KIND_STREAM)
io.Stream = Stream

-- fdopen(fd, mode, buffering): a Stream over a duplicate of fd (a pipe, a
-- file, a terminal, a socket), which stays the caller's.  mode has "r"
-- and/or "w" ("r" by default); buffering -1 (the default) is 8192 bytes, 0
-- unbuffered, 1 line-buffered writes, more the buffer's size.
function io.fdopen(fd, mode, buffering)
  local h = core.stream_new(int(fd, "fd"), mode or "r",
                            buffering == nil and -1
                              or integer(buffering, "buffering"))
  return new(Stream, h, true)
end

-- One format of read: the value, or nil (the end), or nil and an answer.
local function read_one(s, fmt)
  local h = s.handle
  if type(fmt) == "number" then
    local n = size(fmt, "size")
    local ok, data = pcall(stream_read, h, n)
    if not ok then
      return nil, answer(data), data
    end
    if data == "" and n > 0 then
      return nil
    end
    return data
  end
  if type(fmt) ~= "string" then
    raise(EVALUE, "read: a format is a number or a string, not %s",
          type(fmt))
  end
  local c = fmt:match("^%*?(.)")
  if c == "l" or c == "L" then
    local ok, line = pcall(stream_readline, h, -1, 256)
    if not ok then
      return nil, answer(line), line
    end
    if line == "" then
      return nil
    end
    if c == "l" and line:byte(-1) == 10 then
      return line:sub(1, -2)
    end
    return line
  elseif c == "a" then
    local ok, data = pcall(core.stream_readall, h, 8192)
    if not ok then
      return nil, answer(data), data
    end
    return data
  end
  raise(EVALUE, "read: invalid format %s", fmt)
end

-- Lua's file:read(...): formats n (up to n bytes), "l" (a line, the
-- default), "L" (a line with its "\n"), "a" (the rest).  At the end of the
-- stream nil (with "a": ""); on a timeout or a lost connection nil and
-- the answer, the data staying buffered for the next read.
function Stream:read(...)
  local n = select("#", ...)
  if n <= 1 then
    local v, why, err = read_one(self, n == 0 and "l" or ...)
    if v ~= nil or why == nil then
      return v
    end
    return nil, why, nil, err
  end
  local out = {}
  for i = 1, n do
    local v, why, err = read_one(self, (select(i, ...)))
    if v == nil then
      out[i], out[i + 1], out[i + 2], out[i + 3] = nil, why, nil, err
      return unpack(out, 1, why and i + 3 or i)
    end
    out[i] = v
  end
  return unpack(out, 1, n)
end

-- Python's read1: up to n bytes with at most one read of the descriptor.
function Stream:read1(n)
  local ok, data = pcall(core.stream_read1, self.handle, size(n, "size"))
  if not ok then
    return nil, answer(data), nil, data
  end
  return data
end

-- for line in stream:lines(...) (formats as read's, "l" by default); a
-- timeout or a lost connection raises its error value.
function Stream:lines(...)
  local n, fmts = select("#", ...), table.pack(...)
  return function()
    local v, why, _, err
    if n == 0 then
      v, why, _, err = self:read("l")
    else
      v, why, _, err = self:read(unpack(fmts, 1, n))
    end
    if v == nil and why then
      error(err or core.error(C.WEFT_ECLOSED, "lines: " .. why), 0)
    end
    return v
  end
end

-- Lua's file:write(...): strings and numbers; the stream, or nil, the
-- answer and the bytes it took.
function Stream:write(...)
  local n = select("#", ...)
  local data
  if n == 1 then
    data = bytes(..., "data")
  else
    local parts = {}
    for i = 1, n do
      parts[i] = bytes((select(i, ...)), "data")
    end
    data = concat(parts)
  end
  local ok, err = pcall(stream_write, self.handle, data)
  if ok then
    return self
  end
  return nil, answer(err), err.sent or 0, err
end

function Stream:flush()
  local ok, err = pcall(core.stream_flush, self.handle)
  if ok then
    return self
  end
  return nil, answer(err), nil, err
end

-- Flushes first; raises if that fails (the stream is closed anyway).
function Stream:close()
  P.close(self)
  return true
end

function Stream:settimeout(t)
  core.stream_set_timeout(self.handle, timeout_of(t))
  return true
end

function Stream:gettimeout()
  local t = core.stream_get_timeout(self.handle)
  if t < 0 then
    return nil
  end
  return t
end

function Stream:fileno() return core.stream_fileno(self.handle) end
function Stream:readable() return core.stream_readable(self.handle) end
function Stream:writable() return core.stream_writable(self.handle) end

weft.classes.Socket, weft.classes.Stream, weft.classes.Poller =
  Socket, Stream, Poller

end
