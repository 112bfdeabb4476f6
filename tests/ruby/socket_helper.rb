# frozen_string_literal: true

# socket_helper.rb - what the socket, select and stream tests share:
# loopback servers run by Ruby threads, scratch AF_UNIX paths, and a check
# for IPv6 on loopback.  Loopback only; nothing waits for a duration.
require_relative "helper"
require "digest"
require "socket"
require "tmpdir"
require "timeout"

module WeftSocketTest
  LOOPBACK = "127.0.0.1"

  # A connected TCP pair over loopback: [client, server side], both Weft.
  def tcp_pair(host = LOOPBACK)
    server = Weft::TCPServer.new(host, 0)
    client = Weft::TCPSocket.new(host, server.local_address.ip_port)
    accepted = server.accept
    server.close
    [client, accepted]
  end

  # Whether this host can use ::1.
  def ipv6_loopback?
    return @ipv6 unless @ipv6.nil?

    @ipv6 = begin
      s = Weft::Socket.new(:INET6, :STREAM)
      s.bind(["::1", 0])
      true
    rescue SystemCallError, Weft::Error
      false
    ensure
      s&.close
    end
  end

  # A path in a scratch directory removed after the test.
  def unix_path(name = "sock")
    @tmpdir ||= Dir.mktmpdir("weft-rb-")
    File.join(@tmpdir, name)
  end

  # A Linux abstract AF_UNIX name, unique to this process and test.
  def abstract_name
    "\0weft-rb-#{Process.pid}-#{name}-#{rand(1 << 30)}"
  end

  # A Ruby thread that accepts one connection on `server` and echoes
  # everything back until the peer shuts its side down.
  def echo_thread(server)
    ::Thread.new do
      conn = server.accept
      conn = conn[0] if conn.is_a?(Array)
      while (data = conn.recv(65_536)) != ""
        conn.sendall(data)
      end
      conn.close
    end
  end

  # Wait until process pid's main thread sleeps in a system call weft's
  # descriptor waits use (x86-64 Linux; elsewhere a short sleep).
  WAIT_SYSCALLS = %w[7 232 271 281].freeze # poll epoll_wait ppoll epoll_pwait

  def wait_in_syscall(pid)
    path = "/proc/#{pid}/syscall"
    return sleep(0.2 * WeftTest::SLOW) unless RbConfig::CONFIG["host_cpu"] == "x86_64" && File.readable?(path)

    wait_until("process #{pid} to wait in weft") do
      WAIT_SYSCALLS.include?(File.read(path).split.first)
    rescue SystemCallError
      true
    end
  end

  # Run `code` in a new Ruby; send it `signal` once it printed `ready`
  # and waits in a system call.  [status, output].
  def ruby_run_signal(code, signal:, ready: "ready")
    args = $LOAD_PATH.grep(%r{bindings/ruby|tests/ruby}).flat_map { |d| ["-I", d] }
    r, w = IO.pipe
    pid = spawn(RbConfig.ruby, *args, "-e", code, out: w, err: w)
    w.close
    out = +""
    out << r.gets.to_s until out.include?(ready) || r.eof?
    wait_in_syscall(pid)
    Process.kill(signal, pid)
    out << r.read
    r.close
    [Process.wait2(pid)[1], out]
  end

  def teardown
    FileUtils.remove_entry(@tmpdir) if @tmpdir
    super
  end
end

class WeftSocketTestCase < WeftTestCase
  include WeftSocketTest
end
