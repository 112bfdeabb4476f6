# frozen_string_literal: true

# Sockets in Ruby's shape: echo over TCP (IPv4, IPv6), AF_UNIX (a path, an
# abstract name, a pair) and UDP with a Ruby thread as the server;
# addresses as packed Strings and Addrinfo; modes (blocking, timeout,
# non-blocking); options; the resolver; bad input with clean errors.
require_relative "socket_helper"

class TestSocketEcho < WeftSocketTestCase
  def assert_echoes(client)
    client.write("hello, ")
    client.write("weft")
    assert_equal "hello, weft", client.read(11)
    client.close_write
    assert_nil client.read(1) # the echo thread saw the end, and closed
  ensure
    client&.close
  end

  def test_tcp_ipv4_echo
    server = Weft::TCPServer.new(LOOPBACK, 0)
    t = echo_thread(server)
    assert_echoes(Weft::TCPSocket.new(LOOPBACK, server.local_address.ip_port))
    t.join
  ensure
    server&.close
  end

  def test_tcp_ipv6_echo
    skip "no IPv6 loopback here" unless ipv6_loopback?
    server = Weft::TCPServer.new("::1", 0)
    assert server.local_address.ipv6?
    t = echo_thread(server)
    assert_echoes(Weft::TCPSocket.new("::1", server.local_address.ip_port))
    t.join
  ensure
    server&.close
  end

  def test_unix_path_echo
    path = unix_path
    server = Weft::UNIXServer.new(path)
    assert_equal path, server.path
    t = echo_thread(server)
    assert_echoes(Weft::UNIXSocket.new(path))
    t.join
  ensure
    server&.close
  end

  def test_unix_abstract_name_echo
    skip "abstract names are Linux's" unless RUBY_PLATFORM.include?("linux")
    name = abstract_name
    server = Weft::UNIXServer.new(name)
    assert_equal name.b, server.path # the NUL and everything after it
    t = echo_thread(server)
    assert_echoes(Weft::UNIXSocket.new(name))
    t.join
  ensure
    server&.close
  end

  def test_udp_echo_with_sender_address
    server = Weft::UDPSocket.new
    server.bind(LOOPBACK, 0)
    port = server.addr[1]
    t = ::Thread.new do
      data, (family, from_port, _, from_ip) = server.recvfrom(100)
      server.send(data.upcase, 0, from_ip, from_port)
      family
    end
    client = Weft::UDPSocket.new
    client.connect(LOOPBACK, port)
    client.send("datagram", 0)
    assert_equal "DATAGRAM", client.recv(100)
    assert_equal "AF_INET", t.value
  ensure
    client&.close
    server&.close
  end

  def test_socket_pair_carries_bytes_both_ways
    a, b = Weft::Socket.pair
    a.write("ping")
    assert_equal "ping", b.recv(10)
    b.write("pong")
    assert_equal "pong", a.recv(10)
  ensure
    a&.close
    b&.close
  end

  def test_generic_socket_accept_gives_socket_and_addrinfo
    server = Weft::Socket.new(:INET, :STREAM)
    server.setsockopt(:SOCKET, :REUSEADDR, true)
    server.bind(Weft::Socket.sockaddr_in(0, LOOPBACK))
    server.listen(4)
    client = Weft::Socket.new(Weft::Socket::AF_INET, Weft::Socket::SOCK_STREAM)
    client.connect(server.local_address)
    conn, addr = server.accept
    assert_instance_of Weft::Socket, conn
    assert_kind_of Addrinfo, addr
    assert_equal client.local_address.ip_port, addr.ip_port
    assert_equal LOOPBACK, addr.ip_address
  ensure
    [client, conn, server].each { |s| s&.close }
  end
end

class TestSocketData < WeftSocketTestCase
  def setup
    @a, @b = Weft::UNIXSocket.pair
  end

  def teardown
    @a.close
    @b.close
    super
  end

  def test_received_bytes_are_binary_and_kept_exactly
    all = (0..255).map(&:chr).join.b * 4
    @a.write(all)
    got = @b.read(all.bytesize)
    assert_equal Encoding::BINARY, got.encoding
    assert_equal all, got
  end

  def test_utf8_text_goes_as_its_bytes
    @a.write("héllo ✓")
    assert_equal "héllo ✓".b, @b.read("héllo ✓".bytesize)
  end

  def test_recv_returns_what_is_there_and_empty_at_the_end
    @a.write("abc")
    assert_equal "abc", @b.recv(100)
    @a.close_write
    assert_equal "", @b.recv(100)
  end

  def test_read_without_length_reads_to_the_end
    @a.write("one ")
    @a.write("two")
    @a.shutdown(:WR)
    assert_equal "one two", @b.read
    assert_equal "", @b.read
  end

  def test_readpartial_raises_eof_at_the_end
    @a.write("x")
    assert_equal "x", @b.readpartial(10)
    @a.close_write
    assert_raises(EOFError) { @b.readpartial(10) }
  end

  def test_read_into_outbuf
    @a.write("data")
    buf = +"old contents"
    assert_same buf, @b.read(4, buf)
    assert_equal "data", buf
  end

  def test_gets_takes_only_the_line_so_recv_sees_the_rest
    @a.write("first line\nsecond")
    assert_equal "first line\n", @b.gets
    assert_equal "second", @b.recv(100)
  end

  def test_gets_with_chomp_limit_and_separator
    @a.write("a\r\nbcdef\nxyz--rest")
    @a.close_write
    assert_equal "a", @b.gets(chomp: true)
    assert_equal "bcd", @b.gets(3)
    assert_equal "ef\n", @b.gets
    assert_equal "xyz--", @b.gets("--")
    assert_equal "rest", @b.gets
    assert_nil @b.gets
  end

  def test_gets_across_many_writes
    writer = ::Thread.new do
      "a long line, written a byte at a time\n".each_char do |c|
        @a.write(c)
        ::Thread.pass
      end
    end
    assert_equal "a long line, written a byte at a time\n", @b.gets
    writer.join
  end

  def test_each_line_and_readline
    @a.puts("one", %w[two three])
    @a.close_write
    assert_equal "one\n", @b.readline
    assert_equal %w[two three], @b.each_line(chomp: true).to_a
    assert_raises(EOFError) { @b.readline }
  end

  def test_send_and_sendall_count_bytes
    assert_equal 3, @a.send("abc", 0)
    assert_equal 5, @a.sendall("defgh")
    @a << "ij"
    assert_equal "abcdefghij", @b.read(10)
  end

  def test_peek_leaves_the_data
    @a.write("peek")
    assert_equal "pe", @b.recv(2, Weft::Socket::MSG_PEEK)
    assert_equal "peek", @b.recv(10)
  end

  def test_shutdown_read_then_write_still_works
    @b.close_read
    @b.write("still")
    assert_equal "still", @a.recv(10)
  end
end

class TestSocketModes < WeftSocketTestCase
  def setup
    @a, @b = Weft::UNIXSocket.pair
  end

  def teardown
    @a.close
    @b.close
    super
  end

  def test_new_sockets_block_and_take_the_default_timeout
    assert_nil @a.timeout
    Weft::Socket.default_timeout = 2.5
    s = Weft::Socket.new(:INET, :STREAM)
    assert_in_delta 2.5, s.timeout
    s.close
  ensure
    Weft::Socket.default_timeout = nil
  end

  def test_timeout_mode_raises_timeout_error_after_at_least_the_timeout
    @b.timeout = 0.05
    t0 = Weft.monotonic
    e = assert_raises(Weft::TimeoutError) { @b.recv(10) }
    assert_operator Weft.monotonic - t0, :>=, 0.05
    assert_kind_of Errno::ETIMEDOUT, e
    assert_kind_of Weft::Error, e
    @a.write("late") # nothing was lost
    assert_equal "late", @b.recv(10)
  end

  def test_non_blocking_mode_raises_wait_readable
    @b.timeout = 0
    assert @b.nonblock?
    e = assert_raises(IO::EAGAINWaitReadable) { @b.recv(10) }
    assert_kind_of IO::WaitReadable, e
    assert_kind_of Errno::EAGAIN, e
    assert_kind_of Weft::Error, e
  end

  def test_recv_nonblock_and_read_nonblock
    assert_raises(IO::WaitReadable) { @b.recv_nonblock(10) }
    assert_equal :wait_readable, @b.read_nonblock(10, exception: false)
    @a.write("now")
    assert_equal "now", @b.read_nonblock(10)
    assert_nil @b.timeout # the socket's mode is untouched
    @a.close_write
    assert_raises(EOFError) { @b.read_nonblock(10) }
    assert_nil @b.read_nonblock(10, exception: false)
  end

  def test_write_nonblock_until_full
    sent = 0
    loop do
      n = @a.write_nonblock("x" * 65_536, exception: false)
      break if n == :wait_writable

      sent += n
    end
    assert_operator sent, :>, 0
    assert_raises(IO::EAGAINWaitWritable) { @a.write_nonblock("more") }
  end

  def test_gets_that_times_out_keeps_the_partial_line
    @b.timeout = 0.05
    @a.write("half a li")
    assert_raises(Weft::TimeoutError) { @b.gets }
    @a.write("ne\nnext")
    assert_equal "half a line\n", @b.gets
    assert_equal "next", @b.recv(10)
  end

  def test_what_a_failed_gets_took_comes_first
    @b.timeout = 0.05
    @a.write("abc")
    assert_raises(Weft::TimeoutError) { @b.gets }
    @a.write("def")
    assert_equal "ab", @b.recv(2, Weft::Socket::MSG_PEEK)
    assert_equal "abcd", @b.read(4)
    assert_equal "ef", @b.recv(10)
  end

  def test_a_sendall_that_times_out_says_exactly_what_went
    payload = Random.new(3).bytes(8 << 20)
    @a.timeout = 0.05
    e = assert_raises(Weft::TimeoutError) { @a.sendall(payload) } # nobody reads
    assert_operator e.bytes_sent, :>, 0
    assert_operator e.bytes_sent, :<, payload.bytesize
    @a.close_write
    assert_equal payload.byteslice(0, e.bytes_sent), @b.read
  end

  def test_nonblock_setter_switches_modes
    @a.nonblock = true
    assert_equal 0, @a.timeout
    @a.nonblock = false
    assert_nil @a.timeout
  end

  def test_accept_nonblock_and_connect_nonblock
    server = Weft::TCPServer.new(LOOPBACK, 0)
    assert_equal :wait_readable, server.accept_nonblock(exception: false)
    client = Weft::Socket.new(:INET, :STREAM)
    begin
      client.connect_nonblock(server.local_address)
    rescue IO::WaitWritable
      assert Weft.select(nil, [client], nil, 30), "the connection did not complete"
      begin
        client.connect_nonblock(server.local_address)
      rescue Errno::EISCONN
        nil # connected
      end
    end
    conn = server.accept_nonblock
    assert_instance_of Weft::TCPSocket, conn
    assert_equal client.local_address.ip_port, conn.remote_address.ip_port
  ensure
    [conn, client, server].each { |s| s&.close }
  end

  def test_connect_ex_gives_the_errno
    server = Weft::TCPServer.new(LOOPBACK, 0)
    port = server.local_address.ip_port
    server.close
    s = Weft::Socket.new(:INET, :STREAM)
    assert_equal Errno::ECONNREFUSED::Errno, s.connect_ex([LOOPBACK, port])
  ensure
    s&.close
  end

  def test_tcp_socket_connect_timeout_is_not_kept
    server = Weft::TCPServer.new(LOOPBACK, 0)
    s = Weft::TCPSocket.new(LOOPBACK, server.local_address.ip_port, connect_timeout: 5)
    assert_nil s.timeout
  ensure
    s&.close
    server&.close
  end
end

class TestSocketAddresses < WeftSocketTestCase
  def test_sockaddr_in_is_rubys_packed_format
    assert_equal ::Socket.sockaddr_in(80, LOOPBACK), Weft::Socket.sockaddr_in(80, LOOPBACK)
    assert_equal [80, LOOPBACK], Weft::Socket.unpack_sockaddr_in(::Socket.sockaddr_in(80, LOOPBACK))
  end

  def test_sockaddr_un_round_trips_any_bytes
    path = "\0abstract\0with nuls".b
    assert_equal path, Weft::Socket.unpack_sockaddr_un(Weft::Socket.sockaddr_un(path))
    assert_equal "/tmp/x.sock", Weft::Socket.unpack_sockaddr_un(::Socket.sockaddr_un("/tmp/x.sock"))
  end

  def test_ipv6_scope_and_flowinfo
    addr = Weft::Socket.sockaddr(:INET6, "fe80::1", 8080, 5, 3)
    assert_equal [Weft::Socket::AF_INET6, "fe80::1", 8080, 5, 3], Weft::Socket.parse_sockaddr(addr)
  end

  def test_connect_takes_addrinfo_packed_string_and_array
    server = Weft::TCPServer.new(LOOPBACK, 0)
    port = server.local_address.ip_port
    [Addrinfo.tcp(LOOPBACK, port), ::Socket.sockaddr_in(port, LOOPBACK), [LOOPBACK, port]].each do |addr|
      s = Weft::Socket.new(:INET, :STREAM)
      s.connect(addr)
      conn = server.accept
      assert_equal s.local_address.ip_port, conn.peeraddr[1]
      conn.close
      s.close
    end
  ensure
    server&.close
  end

  def test_addresses_come_back_as_addrinfo_and_inet_arrays
    a, b = tcp_pair
    assert_kind_of Addrinfo, a.local_address
    assert_equal a.local_address.ip_port, b.remote_address.ip_port
    assert_equal ["AF_INET", a.local_address.ip_port, LOOPBACK, LOOPBACK], b.peeraddr
    assert_equal b.getsockname, a.getpeername
  ensure
    a&.close
    b&.close
  end

  def test_inet_pton_ntop_aton_ntoa
    assert_equal "\x7f\x00\x00\x01".b, Weft::Socket.inet_pton(:INET, LOOPBACK)
    assert_equal "::1", Weft::Socket.inet_ntop(:INET6, Weft::Socket.inet_pton(:INET6, "::1"))
    assert_equal "\x7f\x00\x00\x01".b, Weft::Socket.inet_aton("127.1")
    assert_equal "10.0.0.1", Weft::Socket.inet_ntoa("\x0a\x00\x00\x01")
  end

  def test_has_ipv6_is_a_boolean
    assert_includes [true, false], Weft::Socket.ipv6?
  end

  def test_byte_order
    assert_equal 0x3412, Weft::Socket.htons(0x1234)
    assert_equal 0x1234, Weft::Socket.ntohs(Weft::Socket.htons(0x1234))
    assert_equal 0x78563412, Weft::Socket.htonl(0x12345678)
  end

  def test_constants_come_from_weft_and_match_rubys
    %i[AF_INET AF_INET6 AF_UNIX SOCK_STREAM SOCK_DGRAM SOL_SOCKET SO_REUSEADDR
       IPPROTO_TCP TCP_NODELAY MSG_PEEK SHUT_WR AI_PASSIVE NI_NUMERICHOST EAI_NONAME].each do |c|
      assert_equal ::Socket.const_get(c), Weft::Socket.const_get(c), c
      assert_equal Weft.constant(c), Weft::Socket::Constants.const_get(c)
    end
    assert_equal Weft::Socket::AF_INET, Weft::Socket::PF_INET
  end
end

class TestSocketOptions < WeftSocketTestCase
  def setup
    @s = Weft::Socket.new(:INET, :STREAM)
  end

  def teardown
    @s.close
    super
  end

  def test_symbols_and_integers_name_the_same_option
    @s.setsockopt(:SOCKET, :REUSEADDR, 1)
    assert @s.getsockopt(Weft::Socket::SOL_SOCKET, Weft::Socket::SO_REUSEADDR).bool
    @s.setsockopt("SOL_SOCKET", "SO_REUSEADDR", false)
    refute @s.getsockopt(:SOCKET, :REUSEADDR).bool
  end

  def test_getsockopt_is_a_socket_option
    @s.setsockopt(:TCP, :NODELAY, true)
    opt = @s.getsockopt(:TCP, :NODELAY)
    assert_kind_of ::Socket::Option, opt
    assert_equal 1, opt.int
    assert_equal Weft::Socket::SOCK_STREAM, @s.getsockopt(:SOCKET, :TYPE).int
  end

  def test_setsockopt_takes_a_socket_option_and_bytes
    @s.setsockopt(::Socket::Option.bool(:INET, :SOCKET, :KEEPALIVE, true))
    assert @s.getsockopt(:SOCKET, :KEEPALIVE).bool
    @s.setsockopt(:SOCKET, :KEEPALIVE, [0].pack("i"))
    refute @s.getsockopt(:SOCKET, :KEEPALIVE).bool
  end

  def test_family_type_protocol_fileno_handle
    assert_equal Weft::Socket::AF_INET, @s.family
    assert_equal Weft::Socket::SOCK_STREAM, @s.socktype
    assert_kind_of Integer, @s.fileno
    assert_equal @s.handle, Weft::BasicSocket.for_handle(@s.handle).handle
    assert_equal Weft::KIND_SOCKET, Weft::Native.handle_kind(@s.handle)
  end
end

class TestResolver < WeftSocketTestCase
  def test_getaddrinfo_in_rubys_shape
    res = Weft::Socket.getaddrinfo(LOOPBACK, 80, :INET, :STREAM)
    assert_equal [["AF_INET", 80, LOOPBACK, LOOPBACK, Weft::Socket::AF_INET, Weft::Socket::SOCK_STREAM,
                   Weft::Socket::IPPROTO_TCP]], res
  end

  def test_addrinfo_gives_addrinfo_objects
    res = Weft::Socket.addrinfo("localhost", "http", socktype: :STREAM)
    refute_empty res
    res.each do |ai|
      assert_kind_of Addrinfo, ai
      assert_equal 80, ai.ip_port
      assert ai.ipv4_loopback? || ai.ipv6_loopback?
    end
  end

  def test_getnameinfo_numeric
    assert_equal %w[127.0.0.1 8080],
                 Weft::Socket.getnameinfo(::Socket.sockaddr_in(8080, LOOPBACK),
                                          Weft::Socket::NI_NUMERICHOST | Weft::Socket::NI_NUMERICSERV)
  end

  def test_host_and_service_names
    refute_empty Weft::Socket.gethostname
    assert_equal LOOPBACK, Weft::Socket.gethostbyname("localhost")
    assert_includes Weft::Socket.gethostbyname_ex("localhost")[2], LOOPBACK
    assert_equal 80, Weft::Socket.getservbyname("http")
    assert_equal "http", Weft::Socket.getservbyport(80)
    assert_equal 6, Weft::Socket.getprotobyname("tcp")
    refute_empty Weft::Socket.getfqdn
  end

  def test_unknown_host_is_a_resolution_error
    e = assert_raises(Weft::ResolutionError) { Weft::Socket.getaddrinfo("no-such-host.invalid", 80) }
    assert_kind_of SocketError, e
    assert_kind_of Weft::Error, e
    assert_equal Weft::Native::WEFT_EGAI, e.code
    assert_includes [Weft::Socket::EAI_NONAME, Weft::Socket::EAI_AGAIN], e.error_code
    assert_raises(Weft::ResolutionError) { Weft::TCPSocket.new("no-such-host.invalid", 80) }
  end

  def test_unknown_service_is_enoent
    assert_raises(Errno::ENOENT) { Weft::Socket.getservbyname("no-such-service") }
  end
end

class TestSocketErrors < WeftSocketTestCase
  def test_connection_refused_is_errno
    server = Weft::TCPServer.new(LOOPBACK, 0)
    port = server.local_address.ip_port
    server.close
    e = assert_raises(Errno::ECONNREFUSED) { Weft::TCPSocket.new(LOOPBACK, port) }
    assert_kind_of Weft::Error, e
    assert_includes e.message, port.to_s
  end

  def test_address_in_use_is_errno
    server = Weft::TCPServer.new(LOOPBACK, 0)
    s = Weft::Socket.new(:INET, :STREAM)
    assert_raises(Errno::EADDRINUSE) { s.bind(server.local_address) }
  ensure
    s&.close
    server&.close
  end

  def test_bad_address_values_are_value_errors
    assert_raises(Weft::ValueError) { Weft::Socket.sockaddr_un("x" * 200) } # longer than sun_path
    assert_raises(Weft::ValueError) { Weft::Socket.sockaddr(:INET, LOOPBACK, 80, 1) } # IPv4 has no flowinfo
    assert_raises(Weft::ValueError) { Weft::Socket.sockaddr(:INET6, "::1", 80, 1 << 20) }
    assert_kind_of ArgumentError, Weft::ValueError.new("x")
  end

  def test_an_address_that_is_no_name_is_a_resolution_error
    s = Weft::Socket.new(:INET, :STREAM)
    assert_raises(Weft::ResolutionError) { s.connect(["300.1.2.3.4", 80]) }
  ensure
    s&.close
  end

  def test_port_out_of_range_is_an_argument_error
    s = Weft::Socket.new(:INET, :STREAM)
    [-1, 65_536, 1 << 40].each do |port|
      assert_raises(ArgumentError, RangeError) { s.bind([LOOPBACK, port]) }
      assert_raises(ArgumentError) { Weft::TCPSocket.new(LOOPBACK, port) }
    end
    assert_kind_of Weft::ValueError, (assert_raises(ArgumentError) { Weft::Socket.sockaddr_in(65_536, LOOPBACK) })
  ensure
    s&.close
  end

  def test_short_or_garbage_packed_address
    s = Weft::Socket.new(:INET, :STREAM)
    assert_raises(Weft::ValueError, Errno::EINVAL, Errno::EAFNOSUPPORT) { s.connect("xx") }
    assert_raises(Weft::ValueError) { Weft::Socket.parse_sockaddr("\x02".b) }
  ensure
    s&.close
  end

  def test_wrong_argument_types
    s = Weft::Socket.new(:INET, :STREAM)
    assert_raises(TypeError) { s.connect(42) }
    assert_raises(TypeError) { s.recv("10") }
    assert_raises(TypeError) { s.send(nil) }
    assert_raises(TypeError) { s.timeout = "1" }
    assert_raises(SocketError) { Weft::Socket.new(:NO_SUCH_FAMILY, :STREAM) }
    assert_raises(SocketError) { s.setsockopt(:SOCKET, :NO_SUCH_OPTION, 1) }
  ensure
    s&.close
  end

  def test_negative_sizes_and_timeouts
    a, b = Weft::UNIXSocket.pair
    assert_raises(ArgumentError) { a.recv(-1) }
    assert_raises(ArgumentError) { a.read(-5) }
    assert_raises(ArgumentError) { a.timeout = -1 }
    assert_raises(RangeError) { Weft::Native.socket_recv(a.handle, 0, -1) }
  ensure
    a&.close
    b&.close
  end

  def test_wrong_kind_of_handle
    lock = Weft::Lock.new
    assert_raises(Weft::BadHandleError) { Weft::BasicSocket.for_handle(lock.handle) }
    assert_raises(Weft::BadHandleError) { Weft::Native.socket_recv(lock.handle, 0, 10) }
    assert_raises(Weft::BadHandleError) { Weft::Native.socket_sendall(0, "x", 0) }
    assert lock.try_lock
  end

  def test_closed_socket_raises_closed_error
    a, b = Weft::UNIXSocket.pair
    a.close
    e = assert_raises(Weft::ClosedError) { a.recv(1) }
    assert_kind_of IOError, e
    assert_raises(IOError) { a.write("x") }
    assert a.closed?
    assert_nil a.close
    assert_equal "", b.recv(1) # the peer saw the close
  ensure
    b&.close
  end

  def test_write_to_a_closed_peer_is_epipe_not_a_signal
    a, b = Weft::UNIXSocket.pair
    b.close
    assert_raises(Errno::EPIPE) { a.write("x" * 1_000_000) }
  ensure
    a&.close
  end
end
