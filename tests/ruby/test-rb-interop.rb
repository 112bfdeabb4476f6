# frozen_string_literal: true

# A peer weft did not write: Ruby's own socket library (TCPServer,
# TCPSocket, UNIXServer, UNIXSocket, UDPSocket from `require "socket"`) on
# the other end, in both directions; Ruby's Addrinfo and packed addresses
# in Weft calls; a Ruby socket wrapped as a Weft one.
require_relative "socket_helper"

class TestInterop < WeftSocketTestCase
  def test_weft_client_talks_to_a_ruby_tcp_server
    server = ::TCPServer.new(LOOPBACK, 0)
    t = ::Thread.new do
      conn = server.accept
      line = conn.gets
      conn.write(line.upcase)
      conn.write(conn.read(5).reverse)
      conn.close
    end
    client = Weft::TCPSocket.new(LOOPBACK, server.addr[1])
    client.puts "from weft"
    assert_equal "FROM WEFT\n", client.gets
    client.write("abcde")
    assert_equal "edcba", client.read(5)
    assert_nil client.read(1)
    t.join
  ensure
    client&.close
    server&.close
  end

  def test_ruby_client_talks_to_a_weft_tcp_server
    server = Weft::TCPServer.new(LOOPBACK, 0)
    t = ::Thread.new do
      conn = server.accept
      io = conn.makefile
      line = io.gets
      io.write(line.upcase)
      io.close
      conn.close
    end
    client = ::TCPSocket.new(LOOPBACK, server.local_address.ip_port)
    client.puts "from ruby"
    assert_equal "FROM RUBY\n", client.gets
    assert_nil client.read(1)
    t.join
  ensure
    client&.close
    server&.close
  end

  def test_megabytes_from_weft_to_ruby_arrive_intact
    payload = Random.new(1).bytes(3 << 20)
    server = ::TCPServer.new(LOOPBACK, 0)
    reader = ::Thread.new do
      conn = server.accept
      data = conn.read
      conn.close
      data
    end
    client = Weft::TCPSocket.new(LOOPBACK, server.addr[1])
    client.sendall(payload)
    client.close
    assert_equal Digest::SHA256.hexdigest(payload), Digest::SHA256.hexdigest(reader.value)
  ensure
    server&.close
  end

  def test_megabytes_from_ruby_to_weft_arrive_intact
    payload = Random.new(2).bytes(3 << 20)
    server = Weft::TCPServer.new(LOOPBACK, 0)
    writer = ::Thread.new do
      s = ::TCPSocket.new(LOOPBACK, server.local_address.ip_port)
      s.write(payload)
      s.close
    end
    conn = server.accept
    got = conn.read
    writer.join
    assert_equal Digest::SHA256.hexdigest(payload), Digest::SHA256.hexdigest(got)
  ensure
    conn&.close
    server&.close
  end

  def test_weft_unix_client_and_ruby_unix_server
    path = unix_path
    server = ::UNIXServer.new(path)
    t = ::Thread.new do
      conn = server.accept
      conn.write(conn.readpartial(100).upcase)
      conn.close
    end
    client = Weft::UNIXSocket.new(path)
    client.write("unix")
    assert_equal "UNIX", client.read(4)
    t.join
  ensure
    client&.close
    server&.close
  end

  def test_ruby_unix_client_and_weft_unix_server
    path = unix_path
    server = Weft::UNIXServer.new(path)
    t = ::Thread.new do
      conn = server.accept
      conn.write(conn.recv(100).upcase)
      conn.close
    end
    client = ::UNIXSocket.new(path)
    client.write("unix")
    assert_equal "UNIX", client.read(4)
    t.join
  ensure
    client&.close
    server&.close
  end

  def test_udp_between_ruby_and_weft
    ruby = ::UDPSocket.new
    ruby.bind(LOOPBACK, 0)
    weft = Weft::UDPSocket.new
    weft.bind(LOOPBACK, 0)
    weft.send("to ruby", 0, LOOPBACK, ruby.addr[1])
    data, from = ruby.recvfrom(100)
    assert_equal "to ruby", data
    assert_equal weft.addr[1], from[1]
    ruby.send("to weft", 0, LOOPBACK, weft.addr[1])
    data, from = weft.recvfrom(100)
    assert_equal "to weft", data
    assert_equal ["AF_INET", ruby.addr[1], LOOPBACK, LOOPBACK], from
  ensure
    ruby&.close
    weft&.close
  end

  def test_ruby_addrinfo_and_sockaddrs_work_in_weft_calls
    server = ::TCPServer.new(LOOPBACK, 0)
    ai = Addrinfo.tcp(LOOPBACK, server.addr[1])
    s = Weft::Socket.new(ai.pfamily, ai.socktype, ai.protocol)
    s.connect(ai)
    conn = server.accept
    assert_equal conn.remote_address.ip_port, s.local_address.ip_port
    assert_equal conn.local_address.to_sockaddr, s.getpeername
  ensure
    [conn, s, server].each { |x| x&.close }
  end

  def test_a_ruby_socket_wrapped_as_a_weft_socket
    ra, rb = ::UNIXSocket.pair
    w = Weft::BasicSocket.from_io(ra)
    ra.close # the Weft socket has its own duplicate
    w.write("wrapped")
    assert_equal "wrapped", rb.read(7)
    assert_equal Weft::Socket::AF_UNIX, w.family
  ensure
    w&.close
    rb&.close
  end

  def test_a_weft_socket_descriptor_serves_ruby_io
    a, b = Weft::UNIXSocket.pair
    io = ::Socket.for_fd(a.detach) # the descriptor is Ruby's now
    io.write("detached")
    assert_equal "detached", b.read(8)
  ensure
    io&.close
    b&.close
  end

  def test_poller_watches_a_ruby_socket
    ra, rb = ::UNIXSocket.pair
    poller = Weft::Poller.new
    poller.register(rb, :in, :ruby)
    ra.write("x")
    assert_equal [[:ruby, Weft::Poller::IN]], poller.wait(5)
    poller.unregister(rb)
  ensure
    poller&.close
    ra&.close
    rb&.close
  end
end
