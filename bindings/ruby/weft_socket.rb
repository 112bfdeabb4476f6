# frozen_string_literal: true

# weft_socket.rb - weft's socket module in the shape of Ruby's socket
# library (loaded by `require "weft"`).
#
#   require "weft"
#   server = Weft::TCPServer.new("127.0.0.1", 0)
#   Thread.new { c = server.accept; c.write(c.readpartial(100).upcase); c.close }
#   s = Weft::TCPSocket.new("127.0.0.1", server.local_address.ip_port)
#   s.write("hello")
#   s.read(5)         # => "HELLO"
#
# Classes mirror Ruby's: BasicSocket (what every socket has), Socket (any
# family, type and protocol; the resolver and address helpers), IPSocket,
# TCPSocket, TCPServer, UDPSocket, UNIXSocket, UNIXServer.  They are not
# IOs: a socket is a weft handle (#handle, usable from Python, Lua or C in
# this process); #makefile gives a buffered Weft::Stream for line I/O at
# speed, and #fileno the descriptor.
#
# Addresses: a packed sockaddr String (what Ruby's Socket.sockaddr_in and
# Addrinfo#to_sockaddr give), an ::Addrinfo, or [host, port] (IPv4 or IPv6
# by the socket's family; [host, port, flowinfo, scope_id] for IPv6).
# Addresses coming back are ::Addrinfo objects (#local_address, #accept,
# #recvfrom of a Socket) or Ruby's inet arrays (IPSocket#addr).
#
# Modes, as Python's: a socket blocks (timeout nil, the default), is
# non-blocking (timeout 0: a call that cannot finish at once raises
# IO::EAGAINWaitReadable, IO::EAGAINWaitWritable or
# IO::EINPROGRESSWaitWritable, as Ruby's *_nonblock methods do), or has a
# timeout (seconds: a call that runs out raises Weft::TimeoutError, an
# Errno::ETIMEDOUT).  Weft::Socket.default_timeout= sets it for new sockets.
#
# Errors: Errno::* for the system's (Errno::ECONNREFUSED, ...), all of
# them Weft::Error; Weft::ResolutionError (a SocketError, #error_code is
# the EAI_* code) when a name does not resolve; Weft::ClosedError (an
# IOError) for a socket closed, by this or another thread, while or before
# a call used it; Weft::ValueError (an ArgumentError) for a bad address or
# port; ArgumentError for a negative size.
#
# Every call that may wait releases the GVL and stays interruptible:
# Thread#kill, Thread#raise, Timeout.timeout and Ctrl-C reach a thread
# blocked in accept, connect, recv, send or read.  Resolving a name
# releases the GVL too, but cannot be interrupted.
require "socket" # Addrinfo, Socket::Option, SocketError

module Weft
  KIND_SOCKET = Native::WEFT_KIND_SOCKET

  # A failed sendall's exception says how many bytes went (exactly:
  # nothing after them did); nil for other failures.
  module Error
    attr_reader :bytes_sent
  end

  # The EAI_* code of a resolver failure (h_errno for a HostError), as
  # Ruby 3.3's Socket::ResolutionError#error_code.
  class ResolutionError
    def error_code
      detail
    end
  end

  # What every socket has.  Not made directly: Weft::Socket.new,
  # Weft::TCPSocket.new, ... make sockets; BasicSocket.for_handle wraps one
  # made elsewhere.
  class BasicSocket < Handle
    include Writer
    KINDS = [KIND_SOCKET].freeze
    N = Native
    private_constant :N

    # A socket for a handle made elsewhere (another language, a C host);
    # own: true closes it with this object.
    def self.for_handle(handle, own: false)
      wrap(handle, own: own)
    end

    # A socket over a duplicate of descriptor fd (a Ruby IO's fileno, a
    # descriptor a parent left): fd stays the caller's.  Family, type and
    # protocol are read from the descriptor.
    def self.for_fd(fd)
      adopt(N.socket_fromfd_new(fd.is_a?(IO) ? fd.fileno : fd, -1, -1, -1))
    end

    # The same, for a Ruby IO (a ::TCPSocket, a ::UNIXSocket, ...).
    def self.from_io(io)
      for_fd(io.fileno)
    end

    # An object of this class owning a new handle.
    def self.adopt(handle)
      obj = allocate
      obj.__send__(:weft_own, handle)
      obj
    end

    # Statuses raised by this file (so that #code is set).
    CLOSED = Native::WEFT_ECLOSED
    private_constant :CLOSED

    # ---- the mode ----

    # nil when blocking, 0 when non-blocking, else seconds per call.
    def timeout
      t = N.socket_get_timeout(@handle)
      t.negative? ? nil : t
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # nil: block; 0: non-blocking; seconds: raise Weft::TimeoutError when
    # a call takes longer.
    def timeout=(seconds)
      N.socket_set_timeout(@handle, seconds.nil? ? -1.0 : Weft.timeout_arg(seconds))
    rescue BadHandleError => e
      raise closed_or(e)
    end

    def nonblock?
      !N.socket_get_blocking(@handle)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # true: timeout 0; false: blocking (timeout nil).
    def nonblock=(flag)
      N.socket_set_blocking(@handle, !flag)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # ---- what it is ----

    def family
      N.socket_get_family(@handle)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    def socktype
      N.socket_get_type(@handle)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    def protocol
      N.socket_get_proto(@handle)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # The descriptor: the socket's own, valid while it is open (do not
    # close it).
    def fileno
      N.socket_fileno(@handle)
    rescue BadHandleError => e
      raise closed_or(e)
    end
    alias to_i fileno

    # Close the handle, keeping the descriptor, which is returned and
    # becomes the caller's.
    def detach
      fd = N.socket_detach(@handle)
      @closed = true
      ObjectSpace.undefine_finalizer(self)
      fd
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # ---- addresses ----

    def bind(addr)
      N.socket_bind(@handle, Socket.sockaddr_arg(addr, family))
      0
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # Listen for connections; a backlog above SOMAXCONN is SOMAXCONN.
    def listen(backlog = Socket::SOMAXCONN)
      N.socket_listen(@handle, backlog)
      0
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # Connect; 0.  Errno::ECONNREFUSED and the like, Weft::TimeoutError
    # in timeout mode, IO::EINPROGRESSWaitWritable in non-blocking mode.
    # Interrupted (Thread#raise, ...), the attempt goes on: connect again
    # to wait for it.
    def connect(addr)
      N.socket_connect(@handle, Socket.sockaddr_arg(addr, family))
      0
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # Connect without waiting (Ruby's connect_nonblock):
    # IO::EINPROGRESSWaitWritable while the connection is under way (wait
    # with Weft.select(nil, [sock]), then call again: Errno::EISCONN says
    # it is made), or :wait_writable with exception: false.  The socket is
    # non-blocking during the call (weft's mode is per socket).
    def connect_nonblock(addr, exception: true)
      nonblocking { connect(addr) }
    rescue IO::WaitWritable
      raise if exception

      :wait_writable
    end

    # Connect, returning the outcome as an errno value (0: connected;
    # Errno::EINPROGRESS::Errno while a non-blocking connect is under way).
    def connect_ex(addr)
      N.socket_connect_ex(@handle, Socket.sockaddr_arg(addr, family))
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # The socket's own address and its peer's, packed.
    def getsockname
      N.socket_getsockname(@handle)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    def getpeername
      N.socket_getpeername(@handle)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # The same as ::Addrinfo objects.
    def local_address
      Socket.addrinfo_for(getsockname, self)
    end

    def remote_address
      Socket.addrinfo_for(getpeername, self)
    end

    # ---- connections ----

    # A connection: [socket, the peer's Addrinfo] (Socket#accept's shape;
    # the servers return only the socket).
    def accept
      h, addr = N.socket_accept(@handle)
      sock = accepted_class.adopt(h)
      [sock, Socket.addrinfo_for(addr, sock)]
    rescue BadHandleError => e
      raise closed_or(e)
    ensure
      # An interrupt (Timeout.timeout, Thread#raise) that lands between the
      # accept and the new object's finalizer: close the connection rather
      # than leave its descriptor to nobody.
      Weft.close_unowned(h) if h && sock.nil?
    end

    # accept without waiting: IO::EAGAINWaitReadable (or :wait_readable
    # with exception: false) when nobody is connecting.  The socket is
    # non-blocking during the call.
    def accept_nonblock(exception: true)
      nonblocking { accept }
    rescue IO::WaitReadable
      raise if exception

      :wait_readable
    end

    # ---- sending ----

    # Send (part of) mesg; the bytes sent.  dest (an address) sends a
    # datagram there.  flags: MSG_* (Integer).
    def send(mesg, flags = 0, dest = nil)
      return N.socket_send(@handle, mesg, flags) if dest.nil?

      N.socket_sendto(@handle, mesg, flags, Socket.sockaddr_arg(dest, family))
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # Send all of mesg (Python's sendall), through partial sends, signals
    # and interrupts; the bytes sent.  A timeout bounds the whole call.
    # On failure the exception's #bytes_sent says how many went.
    def sendall(mesg, flags = 0)
      N.socket_sendall(@handle, mesg, flags)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # Ruby's IO#write: every object as a String, all of it; the bytes
    # written.
    def write(*objs)
      return N.socket_sendall(@handle, objs[0].to_s, 0) if objs.size == 1

      objs.sum { |o| N.socket_sendall(@handle, o.to_s, 0) }
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # send with MSG_DONTWAIT: whatever goes at once; IO::EAGAINWaitWritable
    # (or :wait_writable) when nothing can.
    def write_nonblock(data, exception: true)
      N.socket_send(@handle, data.to_s, Socket::MSG_DONTWAIT, exception ? nil : :wait_writable)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # ---- receiving ----

    # Whether the socket holds bytes that a gets or read which failed (a
    # timeout, an interrupt) had taken: recv, read and gets return them
    # first, and Weft.select reports the socket readable meanwhile.
    def pending?
      !@rbuf.nil?
    end

    # Up to maxlen bytes (binary); "" at the end of the stream (Ruby 3.1's
    # recv).  flags: MSG_* (Integer).
    def recv(maxlen, flags = 0)
      maxlen = Weft.length_arg(maxlen)
      return pending(maxlen, flags) if @rbuf

      N.socket_recv(@handle, flags, maxlen)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # recv with MSG_DONTWAIT: IO::EAGAINWaitReadable (or :wait_readable,
    # which makes no exception) when nothing is there.
    def recv_nonblock(maxlen, flags = 0, exception: true)
      maxlen = Weft.length_arg(maxlen)
      return pending(maxlen, flags) if @rbuf

      N.socket_recv(@handle, flags | Socket::MSG_DONTWAIT, maxlen, exception ? nil : :wait_readable)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # [data, the sender's Addrinfo] (IPSocket and UNIXSocket: Ruby's
    # address arrays).
    def recvfrom(maxlen, flags = 0)
      data, addr = N.socket_recvfrom(@handle, flags, Weft.length_arg(maxlen))
      [data, addr.empty? ? nil : sender(addr)] # a stream socket names nobody
    rescue BadHandleError => e
      raise closed_or(e)
    end

    def recvfrom_nonblock(maxlen, flags = 0, exception: true)
      r = N.socket_recvfrom(@handle, flags | Socket::MSG_DONTWAIT, Weft.length_arg(maxlen),
                            exception ? nil : :wait_readable)
      return r if r.is_a?(Symbol)

      [r[0], r[1].empty? ? nil : sender(r[1])]
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # IO#read: length bytes (fewer only at the end of the stream, or when
    # a timeout or an error came after some bytes: then the next call
    # raises it), nil at the end; no length: everything to the end ("" if
    # nothing).  outbuf receives the data.
    def read(length = nil, outbuf = nil)
      data = if length.nil?
               read_to_end
             else
               length = Weft.length_arg(length)
               return Weft.into("", outbuf) if length.zero?

               read_exactly(length)
             end
      Weft.into(data, outbuf)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # IO#readpartial: up to maxlen bytes, waiting only if none are there;
    # EOFError at the end of the stream.
    def readpartial(maxlen, outbuf = nil)
      data = recv(maxlen)
      raise EOFError, "end of file reached" if data.empty? && maxlen.positive?

      Weft.into(data, outbuf)
    end

    # IO#read_nonblock: EOFError at the end (nil with exception: false),
    # IO::EAGAINWaitReadable (:wait_readable) when nothing is there.
    def read_nonblock(maxlen, outbuf = nil, exception: true)
      data = recv_nonblock(maxlen, 0, exception: exception)
      return data if data.is_a?(Symbol)
      if data.empty? && maxlen.positive?
        raise EOFError, "end of file reached" if exception

        return nil
      end
      Weft.into(data, outbuf)
    end

    # IO#gets on the unbuffered socket: it peeks (MSG_PEEK) and takes only
    # the line, so recv and read after it see what follows.  sep: a String
    # or nil (everything); limit: at most that many bytes.  nil at the
    # end.  For much line I/O, #makefile's Weft::Stream is faster.
    def gets(*args, chomp: false)
      sep, limit = Weft.line_args(args)
      return Weft.chomped(gets_all(limit), sep, chomp) if sep.nil?
      return +"" if limit&.zero?

      Weft.chomped(gets_sep(sep.b, limit), sep, chomp)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # gets, or EOFError at the end.
    def readline(*args, chomp: false)
      gets(*args, chomp: chomp) or raise EOFError, "end of file reached"
    end

    def each_line(*args, chomp: false)
      return enum_for(:each_line, *args, chomp: chomp) unless block_given?

      while (line = gets(*args, chomp: chomp))
        yield line
      end
      self
    end

    def readlines(*args, chomp: false)
      each_line(*args, chomp: chomp).to_a
    end

    # ---- options ----

    # A Socket::Option (#int, #bool, #data, #linger).  level: an Integer,
    # :SOCKET, :IP, :IPV6, :TCP, :UDP or a full name; optname: an Integer,
    # :REUSEADDR (prefixed by the level: SO_, IP_, IPV6_, TCP_), or a full
    # name.
    def getsockopt(level, optname)
      lv = Socket.level_arg(level)
      name = Socket.optname_arg(lv, optname)
      data = N.socket_getsockopt_bytes(@handle, lv, name, 1024)
      ::Socket::Option.new(family, lv, name, data)
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # value: an Integer, true/false, or a String of the option's bytes;
    # or one Socket::Option.
    def setsockopt(level, optname = nil, value = nil)
      if level.is_a?(::Socket::Option)
        level, optname, value = level.level, level.optname, level.data
      end
      lv = Socket.level_arg(level)
      name = Socket.optname_arg(lv, optname)
      case value
      when Integer then N.socket_setsockopt(@handle, lv, name, value)
      when true, false then N.socket_setsockopt(@handle, lv, name, value ? 1 : 0)
      when String then N.socket_setsockopt_bytes(@handle, lv, name, value)
      else raise TypeError, "a socket option's value is an Integer, true, false or a String, not #{value.class}"
      end
      0
    rescue BadHandleError => e
      raise closed_or(e)
    end

    # ---- the end ----

    # shutdown(2): how is :RDWR (the default), :RD, :WR, SHUT_* or an
    # Integer.
    def shutdown(how = :RDWR)
      N.socket_shutdown(@handle, Socket.shut_arg(how))
      0
    rescue BadHandleError => e
      raise closed_or(e)
    end

    def close_read
      shutdown(:RD)
      nil
    end

    def close_write
      shutdown(:WR)
      nil
    end

    # A buffered Weft::Stream over a duplicate of the descriptor (Python's
    # makefile), with this socket's timeout.  mode: "r", "w", "r+" (the
    # default: both), "b" ignored.  buffering: nil (8 KiB), 0 (none), 1
    # (lines), or a size.  sync: true (as Ruby's sockets) sends every
    # write at once; false keeps writes in the buffer until #flush, a full
    # buffer or #close.
    def makefile(mode = "r+", buffering: nil, sync: true)
      stream = Stream.adopt(N.socket_makefile(@handle, Stream.weft_mode(mode), buffering || -1))
      stream.sync = sync
      stream
    rescue BadHandleError => e
      raise closed_or(e)
    end

    def inspect
      return "#<#{self.class} closed>" if @closed

      "#<#{self.class} #{describe} handle=0x#{@handle.to_s(16)}>"
    rescue Weft::Error, SystemCallError, SocketError
      "#<#{self.class} handle=0x#{@handle.to_s(16)}>"
    end

    private

    # What accept makes.
    def accepted_class
      Socket
    end

    # recvfrom's address.
    def sender(addr)
      Socket.addrinfo_for(addr, self)
    end

    # recv from what a failed gets had taken (a peek leaves it there).
    def pending(maxlen, flags)
      return @rbuf.byteslice(0, maxlen) unless (flags & PEEK).zero?

      take_pending(maxlen)
    end

    # Bytes a failed gets had taken, served before the socket's.
    def take_pending(maxlen)
      data = @rbuf.byteslice(0, maxlen)
      rest = @rbuf.byteslice(maxlen..)
      @rbuf = rest.nil? || rest.empty? ? nil : rest
      data
    end

    def stash(data)
      return if data.nil? || data.empty?

      @rbuf = @rbuf ? data + @rbuf : data
    end

    def read_exactly(length)
      if @rbuf
        head = take_pending(length)
        return head if head.bytesize == length

        return head + keeping(head) { N.socket_read(@handle, 0, length - head.bytesize) }
      end
      data = N.socket_read(@handle, 0, length)
      data.empty? ? nil : data
    end

    def read_to_end
      buf = @rbuf ? take_pending(@rbuf.bytesize) : +"".b
      keeping(buf) do
        until (chunk = N.socket_recv(@handle, 0, 65_536)).empty?
          buf << chunk
        end
      end
      buf
    end

    # Run the block; if it raises, what was read before (data) goes back
    # to the socket's side, for the next read.
    def keeping(data)
      yield
    rescue Exception # rubocop:disable Lint/RescueException
      stash(data)
      raise
    end

    def gets_all(limit)
      data = limit ? read(limit) : read_to_end
      data.nil? || data.empty? ? nil : data
    end

    PEEK = Native.constant_get("MSG_PEEK")
    private_constant :PEEK

    # Peek, find sep, take through it; what was taken stays with the
    # socket (@rbuf) if a later step fails.
    def gets_sep(sep, limit)
      line = @rbuf ? take_pending(@rbuf.bytesize) : nil
      if line && (i = line.index(sep)) && (limit.nil? || i + sep.bytesize <= limit)
        stash(line.byteslice((i + sep.bytesize)..))
        return line.byteslice(0, i + sep.bytesize)
      end
      if line && limit && line.bytesize >= limit
        stash(line.byteslice(limit..))
        return line.byteslice(0, limit)
      end
      loop do
        room = limit ? limit - (line ? line.bytesize : 0) : 65_536
        peeked = keeping(line) { N.socket_recv(@handle, PEEK, room.clamp(1, 65_536)) }
        break if peeked.empty?

        keep = line && sep.bytesize > 1 ? line.byteslice([line.bytesize - sep.bytesize + 1, 0].max..) : "".b
        i = (keep + peeked).index(sep)
        take = i ? i + sep.bytesize - keep.bytesize : peeked.bytesize
        got = keeping(line) { N.socket_recv(@handle, 0, take) }
        line = line ? line << got : got
        break if i || (limit && line.bytesize >= limit) || got.empty?
      end
      line
    end

    def nonblocking
      saved = N.socket_get_timeout(@handle)
      return yield if saved.zero?

      N.socket_set_timeout(@handle, 0.0)
      begin
        yield
      ensure
        N.socket_set_timeout(@handle, saved)
      end
    rescue BadHandleError => e
      raise closed_or(e)
    end

    def describe
      local = begin
        local_address.inspect_sockaddr
      rescue StandardError
        "?"
      end
      remote = begin
        "->#{remote_address.inspect_sockaddr}"
      rescue StandardError
        ""
      end
      "fd=#{fileno} #{local}#{remote}"
    end
  end

  # A socket of any family, type and protocol (Ruby's Socket, Python's
  # socket.socket), and the module functions: resolving names, addresses,
  # byte order, constants (Weft::Socket::AF_INET, ...; all of them also in
  # Weft::Socket::Constants).
  class Socket < BasicSocket
    # The platform's socket constants, read from weft's constant table:
    # AF_*, SOCK_*, SO_*, SOL_*, IPPROTO_*, IP_*, IPV6_*, TCP_*, MSG_*,
    # AI_*, NI_*, EAI_*, SHUT_*, ... and SOMAXCONN; PF_* as the AF_* ones.
    module Constants
      PREFIXES = /\A(?:AF|SOCK|SO|SOL|IPPROTO|IPPORT|INADDR|IP|IPV6|TCP|UDP|MSG|SCM|AI|NI|EAI|SHUT|TIPC|SIO|RCVALL)_
                 |\ASOMAXCONN\z/x.freeze
      Weft.constants_hash.each do |name, value|
        const_set(name, value) if name.match?(PREFIXES) && name.match?(/\A[A-Z]/)
      end
      constants.grep(/\AAF_/).each do |af|
        pf = :"PF_#{af.to_s.delete_prefix('AF_')}"
        const_set(pf, const_get(af)) unless const_defined?(pf, false)
      end
      remove_const(:PREFIXES)
    end
    include Constants

    # A socket: family :INET, :INET6, :UNIX (or AF_*, "INET", an Integer),
    # type :STREAM, :DGRAM, ... (SOCK_*), protocol 0 (the family's own).
    def initialize(family, type, protocol = 0)
      weft_own(N.socket_new(Socket.family_arg(family), Socket.type_arg(type), protocol))
    end

    # A connected pair (socketpair(2)): [Socket, Socket].
    def self.pair(family = :UNIX, type = :STREAM, protocol = 0)
      a, b = N.socket_pair_new(family_arg(family), type_arg(type), protocol)
      [adopt(a), adopt(b)]
    end

    class << self
      alias socketpair pair
    end

    # A connected TCP socket (Ruby's Socket.tcp, Python's
    # create_connection): every address host resolves to is tried in turn.
    # connect_timeout bounds each try.  With a block: yields the socket and
    # closes it after.
    def self.tcp(host, port, local_host = nil, local_port = nil, connect_timeout: nil, &block)
      sock = nil
      connect_tcp(host, port, local_host, local_port, connect_timeout) { |h| sock = adopt(h) }
      return sock unless block

      begin
        yield sock
      ensure
        sock.close
      end
    end

    # A stream socket connected to the AF_UNIX path (a String of bytes; a
    # Linux abstract name starts with "\0").
    def self.unix(path, &block)
      sock = new(:UNIX, :STREAM)
      begin
        sock.connect(sockaddr_un(path))
      rescue Exception # rubocop:disable Lint/RescueException
        sock.close
        raise
      end
      return sock unless block

      begin
        yield sock
      ensure
        sock.close
      end
    end

    # ---- the module's default timeout ----

    # The timeout new sockets start with: nil (blocking) until set.
    def self.default_timeout
      t = N.socket_get_default_timeout
      t.negative? ? nil : t
    end

    def self.default_timeout=(seconds)
      N.socket_set_default_timeout(seconds.nil? ? -1.0 : Weft.timeout_arg(seconds))
    end

    # ---- names ----

    # Ruby's Socket.getaddrinfo: [[family name, port, host, address,
    # family, socktype, protocol], ...].  host (nil: any / loopback by
    # AI_PASSIVE) and port (an Integer, a String number or service name,
    # nil); the filters as Integers or symbols (:INET, :STREAM).  host is
    # the canonical name when flags ask for it (AI_CANONNAME), else the
    # address.  Weft::ResolutionError if nothing resolves.
    def self.getaddrinfo(host, port, family = nil, socktype = nil, protocol = nil, flags = nil)
      raw_getaddrinfo(host, port, family, socktype, protocol, flags).map do |f, t, p, canon, sa|
        fam, ip, prt, = N.sockaddr_parse(sa)
        name = AF_NAMES.fetch(fam) { fam.to_s }
        [name, prt, canon.empty? ? ip : canon, ip, f, t, p]
      end
    end

    # The same as ::Addrinfo objects (Addrinfo.getaddrinfo's shape).
    def self.addrinfo(host, port, family: nil, socktype: nil, protocol: nil, flags: nil)
      raw_getaddrinfo(host, port, family, socktype, protocol, flags).map do |f, t, p, _, sa|
        ::Addrinfo.new(sa, f, t, p)
      end
    end

    # [host, service] for an address (a packed String or an Addrinfo), by
    # NI_* flags.
    def self.getnameinfo(addr, flags = 0)
      N.socket_getnameinfo(sockaddr_arg(addr, nil), flags)
    end

    def self.gethostname
      N.socket_gethostname
    end

    # Python's gethostbyname: host's first IPv4 address as text ("a.b.c.d"
    # as it is).  Not Ruby's deprecated Socket.gethostbyname: use
    # Socket.addrinfo for IPv6.
    def self.gethostbyname(host)
      N.socket_gethostbyname(host)
    end

    # Python's gethostbyname_ex: [hostname, aliases, IPv4 addresses].
    def self.gethostbyname_ex(host)
      host_lines(N.socket_gethostbyname_ex(host))
    end

    # Python's gethostbyaddr: [hostname, aliases, addresses] for an IPv4 or
    # IPv6 address (a name is resolved first).
    def self.gethostbyaddr(address)
      host_lines(N.socket_gethostbyaddr(address))
    end

    # A fully qualified name for name (nil: this host), as Python's getfqdn.
    def self.getfqdn(name = nil)
      N.socket_getfqdn(name)
    end

    # A service's port: getservbyname("http") => 80.  Errno::ENOENT if
    # there is no such service.
    def self.getservbyname(service, proto = "tcp")
      N.socket_getservbyname(service.to_s, proto&.to_s)
    end

    # A port's service: getservbyport(80) => "http".
    def self.getservbyport(port, proto = "tcp")
      N.socket_getservbyport(port, proto&.to_s)
    end

    def self.getprotobyname(name)
      N.socket_getprotobyname(name.to_s)
    end

    # ---- addresses ----

    # Text to packed bytes (4 or 16) and back; family: :INET, :INET6 or an
    # Integer.  Weft::ValueError for text that does not parse.
    def self.inet_pton(family, text)
      N.socket_inet_pton(family_arg(family), text)
    end

    def self.inet_ntop(family, packed)
      N.socket_inet_ntop(family_arg(family), packed)
    end

    def self.inet_aton(text)
      N.socket_inet_aton(text)
    end

    def self.inet_ntoa(packed)
      N.socket_inet_ntoa(packed)
    end

    def self.htonl(x) = N.socket_htonl(x)
    def self.ntohl(x) = N.socket_ntohl(x)
    def self.htons(x) = N.socket_htons(x)
    def self.ntohs(x) = N.socket_ntohs(x)

    def self.ipv6?
      N.socket_has_ipv6
    end

    class << self
      alias has_ipv6? ipv6?
    end

    # A packed address: sockaddr(:INET, "127.0.0.1", 80); for :UNIX, host
    # is the path.  A host name resolves ("" is any, "<broadcast>" IPv4's
    # broadcast address).  Weft::ValueError for a bad port or address.
    def self.sockaddr(family, host, port = 0, flowinfo = 0, scope_id = 0)
      N.sockaddr_make(family_arg(family), host.to_s, port_arg(port), flowinfo, scope_id)
    end

    # Ruby's Socket.sockaddr_in (port first): IPv6 if host has a ":".
    def self.sockaddr_in(port, host)
      host = host.to_s
      sockaddr(host.include?(":") ? AF_INET6 : AF_INET, host, port)
    end

    def self.sockaddr_un(path)
      N.sockaddr_make(AF_UNIX, path.to_s, 0, 0, 0)
    end

    class << self
      alias pack_sockaddr_in sockaddr_in
      alias pack_sockaddr_un sockaddr_un
    end

    # [family, host, port, flowinfo, scope_id] of a packed address (host:
    # text, or an AF_UNIX path's bytes).
    def self.parse_sockaddr(addr)
      N.sockaddr_parse(addr.is_a?(::Addrinfo) ? addr.to_sockaddr : addr)
    end

    # [port, host], as Ruby's.
    def self.unpack_sockaddr_in(addr)
      family, host, port, = parse_sockaddr(addr)
      raise ArgumentError, "not an AF_INET or AF_INET6 sockaddr" unless [AF_INET, AF_INET6].include?(family)

      [port, host]
    end

    def self.unpack_sockaddr_un(addr)
      family, path, = parse_sockaddr(addr)
      raise ArgumentError, "not an AF_UNIX sockaddr" unless family == AF_UNIX

      path
    end

    # ---- for the classes here ----

    AF_NAMES = { AF_INET => "AF_INET", AF_INET6 => "AF_INET6", AF_UNIX => "AF_UNIX",
                 AF_UNSPEC => "AF_UNSPEC" }.freeze
    private_constant :AF_NAMES

    # A constant from a value: an Integer as it is, else a name with or
    # without the prefix (:INET, "AF_INET", "PF_INET"); SocketError for
    # an unknown one, as Ruby's.
    def self.const_arg(value, prefixes, what)
      return value if value.is_a?(Integer)
      unless value.is_a?(Symbol) || value.is_a?(String)
        raise TypeError, "#{what} must be an Integer, Symbol or String, not #{value.class}"
      end

      name = value.to_s.upcase
      prefixes.each do |p|
        full = name.start_with?(p) ? name : "#{p}#{name}"
        next unless full.match?(/\A[A-Z][A-Z0-9_]*\z/) && Constants.const_defined?(full, false)

        return Constants.const_get(full, false)
      end
      raise SocketError, "unknown #{what}: #{value}"
    end

    def self.family_arg(family)
      family.nil? ? AF_UNSPEC : const_arg(family, %w[AF_ PF_], "socket domain")
    end

    def self.type_arg(type)
      type.nil? ? 0 : const_arg(type, %w[SOCK_], "socket type")
    end

    def self.level_arg(level)
      const_arg(level, %w[SOL_ IPPROTO_], "protocol level")
    end

    OPT_PREFIXES = {}.tap do |h|
      h[SOL_SOCKET] = %w[SO_]
      h[IPPROTO_IP] = %w[IP_]
      h[IPPROTO_IPV6] = %w[IPV6_]
      h[IPPROTO_TCP] = %w[TCP_]
      h[IPPROTO_UDP] = %w[UDP_]
    end.freeze
    private_constant :OPT_PREFIXES

    def self.optname_arg(level, optname)
      const_arg(optname, OPT_PREFIXES.fetch(level, []) + [""], "socket option")
    end

    def self.shut_arg(how)
      const_arg(how, %w[SHUT_], "shutdown how")
    end

    # A port for sockaddr_make: an Integer, or a String number or service
    # name.
    def self.port_arg(port)
      case port
      when Integer then port
      when nil then 0
      when /\A\d+\z/ then port.to_i
      when String then getservbyname(port, nil)
      else raise TypeError, "a port is an Integer or a String, not #{port.class}"
      end
    end

    # A port for weft's resolver: a String (nil stays nil).  An Integer
    # out of range is refused here, as sockaddr_make refuses it.
    def self.service_arg(port)
      return nil if port.nil?
      return port.to_s if port.is_a?(String)
      raise TypeError, "a port is an Integer or a String, not #{port.class}" unless port.is_a?(Integer)
      raise Weft.error(ValueError, "port must be 0..65535, not #{port}") unless port.between?(0, 65_535)

      port.to_s
    end

    # A packed address from what a caller gave (see the top of the file),
    # for a socket of `family` (nil: a packed address or Addrinfo only).
    def self.sockaddr_arg(addr, family)
      case addr
      when String then addr
      when ::Addrinfo then addr.to_sockaddr
      when Array
        unless (2..4).cover?(addr.size)
          raise ArgumentError, "an address array is [host, port] or [host, port, flowinfo, scope_id]"
        end
        raise ArgumentError, "give an AF_UNIX address as Weft::Socket.sockaddr_un(path)" if family == AF_UNIX

        host, port, flowinfo, scope_id = addr
        family ||= host.to_s.include?(":") ? AF_INET6 : AF_INET
        sockaddr(family, host.to_s, port, flowinfo || 0, scope_id || 0)
      else
        return addr.to_sockaddr if addr.respond_to?(:to_sockaddr)

        raise TypeError, "an address is a packed String, an Addrinfo or [host, port], not #{addr.class}"
      end
    end

    # An Addrinfo for a packed address of `sock`.
    def self.addrinfo_for(addr, sock)
      ::Addrinfo.new(addr, sock.family, sock.socktype, sock.protocol)
    rescue ArgumentError, SocketError, TypeError
      ::Addrinfo.new(addr)
    end

    def self.raw_getaddrinfo(host, port, family, socktype, protocol, flags)
      host = nil if host == ""
      N.getaddrinfo(host&.to_s, service_arg(port), family_arg(family), type_arg(socktype),
                    protocol || 0, flags || 0)
    end

    def self.host_lines(text)
      name, aliases, addresses = text.split("\n", -1)
      [name, aliases.to_s.split, addresses.to_s.split]
    end

    # create_connection for TCPSocket.new and Socket.tcp: the socket keeps
    # the default timeout, not connect_timeout.  Yields the new handle to
    # the block that owns it, closing it if anything (an interrupt) comes
    # first.
    def self.connect_tcp(host, port, local_host, local_port, connect_timeout)
      default = N.socket_get_default_timeout
      timeout = connect_timeout.nil? ? default : Weft.timeout_arg(connect_timeout)
      h = N.socket_create_connection((host || "localhost").to_s, service_arg(port) || "0", timeout,
                                     local_host&.to_s, local_port.nil? ? nil : service_arg(local_port))
      N.socket_set_timeout(h, default) unless connect_timeout.nil?
      yield h
      h = nil
    ensure
      Weft.close_unowned(h) if h
    end

    # The same for create_connection, whose socket keeps `timeout`.
    def self.create_connection_owned(args)
      h = N.socket_create_connection(*args)
      yield h
      h = nil
    ensure
      Weft.close_unowned(h) if h
    end

    private_class_method :const_arg, :raw_getaddrinfo, :host_lines
  end

  # An IPv4 or IPv6 socket: Ruby's address arrays.
  class IPSocket < BasicSocket
    # ["AF_INET", port, host, address] of this end (host numeric).
    def addr(_reverse_lookup = nil)
      inet_array(getsockname)
    end

    def peeraddr(_reverse_lookup = nil)
      inet_array(getpeername)
    end

    private

    def sender(addr)
      inet_array(addr)
    end

    def inet_array(packed)
      family, host, port, = Socket.parse_sockaddr(packed)
      [family == Socket::AF_INET6 ? "AF_INET6" : "AF_INET", port, host, host]
    end
  end

  # A connected TCP socket: Weft::TCPSocket.new(host, port) tries every
  # address host resolves to (connect_timeout bounds each try).
  class TCPSocket < IPSocket
    def initialize(host, port, local_host = nil, local_port = nil, connect_timeout: nil)
      Socket.connect_tcp(host, port, local_host, local_port, connect_timeout) { |h| weft_own(h) }
    end

    # Python's socket.create_connection((host, port), timeout): the socket
    # keeps `timeout`.
    def self.create_connection(host, port, timeout: nil, source: nil)
      src_host, src_port = source
      t = timeout.nil? ? N.socket_get_default_timeout : Weft.timeout_arg(timeout)
      sock = nil
      Socket.create_connection_owned([host.to_s, Socket.service_arg(port) || "0", t, src_host&.to_s,
                                      src_port.nil? ? nil : Socket.service_arg(src_port)]) { |h| sock = adopt(h) }
      sock
    end
  end

  # A listening TCP socket: Weft::TCPServer.new(port) or (host, port);
  # SO_REUSEADDR is set, the backlog is SOMAXCONN.  Port 0 picks one
  # (#local_address.ip_port).
  class TCPServer < TCPSocket
    def initialize(host = nil, port = nil)
      host, port = nil, host if port.nil?
      flags = Socket::AI_PASSIVE
      last = nil
      Socket.addrinfo(host, port, socktype: :STREAM, flags: flags).each do |ai|
        h = Native.socket_new(ai.pfamily, ai.socktype, ai.protocol)
        begin
          Native.socket_setsockopt(h, Socket::SOL_SOCKET, Socket::SO_REUSEADDR, 1)
          Native.socket_bind(h, ai.to_sockaddr)
          Native.socket_listen(h, Socket::SOMAXCONN)
        rescue SystemCallError => e
          Native.close(h)
          last = e
          next
        end
        return weft_own(h)
      end
      raise last || Weft.error(ValueError, "no address to listen on for #{host.inspect}:#{port}")
    end

    # A connection, as a Weft::TCPSocket.
    def accept
      super[0]
    end

    def accept_nonblock(exception: true)
      r = super
      r.is_a?(Array) ? r[0] : r
    end

    private

    def accepted_class
      TCPSocket
    end
  end

  # A UDP socket: Weft::UDPSocket.new(:INET6) for IPv6.
  class UDPSocket < IPSocket
    def initialize(family = :INET)
      weft_own(Native.socket_new(Socket.family_arg(family), Socket::SOCK_DGRAM, 0))
    end

    # bind(host, port) as Ruby's ("" or nil host: any); or one address.
    def bind(host, port = nil)
      return super(host) if port.nil?

      super([host.to_s, port])
    end

    def connect(host, port = nil)
      return super(host) if port.nil?

      super([host.to_s, port])
    end

    # send(mesg, flags) when connected; send(mesg, flags, host, port) or
    # send(mesg, flags, address).
    def send(mesg, flags = 0, host = nil, port = nil)
      return super(mesg, flags, host) if port.nil?

      super(mesg, flags, [host.to_s, port])
    end
  end

  # A stream socket connected to an AF_UNIX path (bytes; "\0name" is a
  # Linux abstract name).
  class UNIXSocket < BasicSocket
    def initialize(path)
      h = Native.socket_new(Socket::AF_UNIX, Socket::SOCK_STREAM, 0)
      begin
        Native.socket_connect(h, Socket.sockaddr_un(path))
      rescue Exception # rubocop:disable Lint/RescueException
        Native.close(h)
        raise
      end
      weft_own(h)
    end

    # A connected pair: [UNIXSocket, UNIXSocket].
    def self.pair(type = :STREAM, protocol = 0)
      a, b = Native.socket_pair_new(Socket::AF_UNIX, Socket.type_arg(type), protocol)
      [adopt(a), adopt(b)]
    end

    class << self
      alias socketpair pair
    end

    # This end's path ("" if unnamed).
    def path
      Socket.parse_sockaddr(getsockname)[1]
    end

    # ["AF_UNIX", path]
    def addr
      ["AF_UNIX", path]
    end

    def peeraddr
      ["AF_UNIX", Socket.parse_sockaddr(getpeername)[1]]
    end

    private

    def sender(addr)
      ["AF_UNIX", Socket.parse_sockaddr(addr)[1]]
    end

    def accepted_class
      UNIXSocket
    end
  end

  # A listening AF_UNIX stream socket bound to path (which must not
  # exist; the caller removes it after).
  class UNIXServer < UNIXSocket
    def initialize(path)
      h = Native.socket_new(Socket::AF_UNIX, Socket::SOCK_STREAM, 0)
      begin
        Native.socket_bind(h, Socket.sockaddr_un(path))
        Native.socket_listen(h, Socket::SOMAXCONN)
      rescue Exception # rubocop:disable Lint/RescueException
        Native.close(h)
        raise
      end
      weft_own(h)
    end

    # A connection, as a Weft::UNIXSocket.
    def accept
      super[0]
    end

    def accept_nonblock(exception: true)
      r = super
      r.is_a?(Array) ? r[0] : r
    end
  end
end
