# frozen_string_literal: true

# Socket, select and stream waits release the GVL and stay interruptible:
# Thread#kill, Thread#raise, Timeout.timeout and Ctrl-C reach a thread
# blocked in recv, accept, connect, select, poll or a stream read; an
# interrupt that does not end the call lets it go on from where it was
# (nothing received is lost, nothing sent twice); closing a socket wakes
# the threads blocked on it.
require_relative "socket_helper"

class TestSocketInterrupts < WeftSocketTestCase
  def setup
    @a, @b = Weft::UNIXSocket.pair
  end

  def teardown
    @a.close
    @b.close
    super
  end

  def test_recv_releases_the_gvl
    t = ::Thread.new { @b.recv(10) }
    wait_blocked(t)
    counter = 0
    spinner = ::Thread.new { loop { counter += 1 } }
    wait_until("a Ruby thread to run while another waits in recv") { counter > 1000 }
    spinner.kill.join
    @a.write("x")
    assert_equal "x", t.value
  end

  def test_kill_reaches_a_thread_blocked_in_recv_and_loses_nothing
    t = ::Thread.new { @b.recv(10) }
    wait_blocked(t)
    t.kill
    assert t.join(30), "killed thread did not end"
    @a.write("kept")
    assert_equal "kept", @b.recv(10)
  end

  def test_raise_reaches_a_thread_blocked_in_recv
    t = ::Thread.new do
      @b.recv(10)
    rescue IOError => e
      e.message
    end
    wait_blocked(t)
    t.raise(IOError, "wake up")
    assert_equal "wake up", t.value
  end

  def test_timeout_timeout_reaches_recv
    assert_raises(Timeout::Error) { Timeout.timeout(0.1) { @b.recv(10) } }
    @a.write("after")
    assert_equal "after", @b.recv(10)
  end

  def test_timeout_timeout_reaches_a_stream_read
    stream = @b.makefile("r")
    assert_raises(Timeout::Error) { Timeout.timeout(0.1) { stream.gets } }
    @a.write("line\n")
    assert_equal "line\n", stream.gets
  ensure
    stream&.close
  end

  # A stream whose peer reads nothing: close's flush waits.  The wait is
  # one like the others: Timeout.timeout and Thread#kill end it, and the
  # stream is closed after (what it held is lost, as with an IO).
  def stuck_stream
    stream = @a.makefile("w", buffering: 1 << 22, sync: false)
    stream.write("z" * (1 << 21)) # buffered; far more than the socket takes
    stream
  end

  # If the close cannot be reached, unstick it (the flush then fails
  # with EPIPE) so that the suite goes on, and fail.
  def assert_ends(thread, what)
    return if thread.join(10 * SLOW)

    @b.close
    thread.join(10)
    flunk "#{what} did not reach Stream#close"
  end

  def test_timeout_timeout_reaches_the_flush_of_close
    stream = stuck_stream
    t = ::Thread.new do
      Timeout.timeout(0.1) { stream.close }
      :closed
    rescue Timeout::Error
      :timed_out
    end
    assert_ends(t, "Timeout.timeout")
    assert_equal :timed_out, t.value
    assert stream.closed?
    assert_raises(Weft::BadHandleError) { Weft::Native.stream_flush(stream.handle) }
  end

  def test_kill_reaches_the_flush_of_close
    stream = stuck_stream
    t = ::Thread.new { stream.close }
    wait_blocked(t)
    t.kill
    assert_ends(t, "Thread#kill")
    assert_raises(Weft::BadHandleError) { Weft::Native.stream_flush(stream.handle) }
  end

  def test_kill_reaches_a_finalizer_style_close
    stream = stuck_stream
    t = ::Thread.new { Weft::Native.stream_close(stream.handle) }
    wait_blocked(t)
    t.kill
    assert_ends(t, "Thread#kill")
    assert_raises(Weft::BadHandleError) { Weft::Native.stream_flush(stream.handle) }
  end

  # An interrupt that lands just after a connection is made (Timeout.timeout
  # firing then) raises in the code between the call and the object that
  # owns the new handle.  Simulated here by that code raising: the
  # connection must be closed (the peer sees its end), not left to nobody.
  def assert_peer_sees_the_end(sock)
    sock.timeout = 5 * SLOW
    assert_equal "", sock.recv(1)
  end

  def test_an_interrupt_before_accept_wraps_the_connection_closes_it
    server = Weft::TCPServer.new(LOOPBACK, 0)
    client = Weft::TCPSocket.new(LOOPBACK, server.local_address.ip_port)
    server.define_singleton_method(:accepted_class) { raise Interrupt }
    assert_raises(Interrupt) { server.accept }
    assert_peer_sees_the_end(client)
  ensure
    [client, server].each { |x| x&.close }
  end

  def test_an_interrupt_before_a_connection_is_wrapped_closes_it
    klass = Class.new(Weft::TCPSocket) do
      private

      def weft_own(_handle)
        raise Interrupt
      end
    end
    server = Weft::TCPServer.new(LOOPBACK, 0)
    port = server.local_address.ip_port
    assert_raises(Interrupt) { klass.new(LOOPBACK, port) }
    assert_raises(Interrupt) { klass.create_connection(LOOPBACK, port) }
    2.times do
      conn = server.accept
      assert_peer_sees_the_end(conn)
      conn.close
    end
  ensure
    server&.close
  end

  def test_kill_reaches_accept
    server = Weft::TCPServer.new(LOOPBACK, 0)
    t = ::Thread.new { server.accept }
    wait_blocked(t)
    t.kill
    assert t.join(30), "killed thread did not end"
    client = Weft::TCPSocket.new(LOOPBACK, server.local_address.ip_port)
    conn = server.accept # the killed accept took no connection
    assert_equal client.local_address.ip_port, conn.remote_address.ip_port
  ensure
    [conn, client, server].each { |s| s&.close }
  end

  def test_raise_reaches_accept
    server = Weft::UNIXServer.new(unix_path)
    t = ::Thread.new do
      server.accept
    rescue RuntimeError => e
      e.message
    end
    wait_blocked(t)
    t.raise("stop accepting")
    assert_equal "stop accepting", t.value
  ensure
    server&.close
  end

  def test_timeout_timeout_reaches_accept
    server = Weft::TCPServer.new(LOOPBACK, 0)
    assert_raises(Timeout::Error) { Timeout.timeout(0.1) { server.accept } }
  ensure
    server&.close
  end

  # An AF_UNIX listener whose backlog is full: a blocking connect to it
  # waits until someone accepts.
  def full_unix_listener
    path = unix_path
    server = Weft::Socket.new(:UNIX, :STREAM)
    server.bind(Weft::Socket.sockaddr_un(path))
    server.listen(0)
    fillers = []
    loop do
      c = Weft::Socket.new(:UNIX, :STREAM)
      fillers << c
      break if c.connect_nonblock(Weft::Socket.sockaddr_un(path), exception: false) == :wait_writable
    rescue IO::WaitReadable, Errno::EAGAIN
      break
    end
    [server, path, fillers]
  end

  def test_kill_reaches_a_blocked_connect
    server, path, fillers = full_unix_listener
    s = Weft::Socket.new(:UNIX, :STREAM)
    t = ::Thread.new { s.connect(Weft::Socket.sockaddr_un(path)) }
    wait_blocked(t)
    t.kill
    assert t.join(30), "killed thread did not end"
  ensure
    [s, server, *fillers].each { |x| x&.close }
  end

  def test_a_connect_that_times_out_raises_timeout_error
    server, path, fillers = full_unix_listener
    s = Weft::Socket.new(:UNIX, :STREAM)
    s.timeout = 0.05
    assert_raises(Weft::TimeoutError) { s.connect(Weft::Socket.sockaddr_un(path)) }
  ensure
    [s, server, *fillers].each { |x| x&.close }
  end

  def test_kill_reaches_select_and_poll
    poller = Weft::Poller.new
    poller.register(@b, :in)
    [-> { Weft.select([@b]) }, -> { poller.wait }].each do |wait|
      t = ::Thread.new(&wait)
      wait_blocked(t)
      t.kill
      assert t.join(30), "killed thread did not end"
    end
  ensure
    poller&.close
  end

  def test_deferred_interrupt_lets_recv_go_on
    got = nil
    t = ::Thread.new do
      ::Thread.handle_interrupt(RuntimeError => :never) do
        got = @b.recv(10) # interrupted, then resumed: the raise waits
      end
    rescue RuntimeError => e
      [got, e.message]
    end
    wait_blocked(t)
    t.raise("later")
    wait_blocked(t) # back to waiting, not ended
    @a.write("data")
    assert_equal ["data", "later"], t.value
  end

  def test_interrupted_sendall_resumes_and_sends_nothing_twice
    payload = Random.new(7).bytes(8 << 20)
    t = ::Thread.new do
      ::Thread.handle_interrupt(RuntimeError => :never) do
        @a.sendall(payload) # blocks: nobody reads yet
      end
    rescue RuntimeError
      :raised
    end
    wait_blocked(t)
    3.times do
      t.raise("interrupt")
      wait_blocked(t)
    end
    got = @b.read(payload.bytesize)
    assert_equal :raised, t.value
    assert_equal Digest::SHA256.hexdigest(payload), Digest::SHA256.hexdigest(got)
  end

  def test_interrupted_timed_recv_still_times_out
    @b.timeout = 0.3
    t = ::Thread.new do
      ::Thread.handle_interrupt(RuntimeError => :never) do
        @b.recv(10)
      end
    rescue Weft::TimeoutError
      :timed_out
    rescue RuntimeError
      :raised
    end
    wait_blocked(t)
    t.raise("deferred")
    assert_includes %i[timed_out raised], t.value # ended: it did not wait again for good
  end

  def test_close_wakes_a_thread_blocked_in_recv
    t = ::Thread.new do
      @b.recv(10)
    rescue Weft::ClosedError => e
      e
    end
    wait_blocked(t)
    @b.close
    e = t.value
    assert_kind_of Weft::ClosedError, e
    assert_kind_of IOError, e
    assert_equal Weft::Native::WEFT_ECLOSED, e.code
  end

  def test_close_wakes_accept_and_select
    server = Weft::TCPServer.new(LOOPBACK, 0)
    ts = [::Thread.new { server.accept }, ::Thread.new { Weft.select([server]) }]
    ts.each { |t| t.report_on_exception = false }
    ts.each { |t| wait_blocked(t) }
    server.close
    ts.each { |t| assert_raises(Weft::ClosedError) { t.value } }
  end

  def test_close_of_a_poller_wakes_its_waiters
    poller = Weft::Poller.new
    t = ::Thread.new { poller.wait }
    t.report_on_exception = false
    wait_blocked(t)
    poller.close
    assert_raises(Weft::ClosedError) { t.value }
  end
end

# Ctrl-C (SIGINT) reaches the main thread blocked in a socket wait, alone
# or with other Ruby threads around, and a trap that returns lets the
# wait go on.
class TestSocketSignals < WeftSocketTestCase
  def assert_ctrl_c_interrupts_main(wait, setup = "")
    code = <<~RUBY
      trap("INT", "DEFAULT")
      require "weft"
      a, b = Weft::UNIXSocket.pair
      server = Weft::TCPServer.new("127.0.0.1", 0)
      #{setup}
      begin
        puts "ready"; $stdout.flush
        #{wait}
      rescue Interrupt
        puts "interrupted"
      end
    RUBY
    status, out = ruby_run_signal(code, signal: "INT")
    assert status.success?, out
    assert_includes out, "interrupted"
  end

  OTHERS = <<~RUBY
    other = Thread.new { b.recv(1) }
    Thread.pass until other.status == "sleep"
    at_exit { a.write("x") }
  RUBY

  def test_ctrl_c_reaches_recv_of_the_lone_main_thread
    assert_ctrl_c_interrupts_main("b.recv(10)")
  end

  def test_ctrl_c_reaches_recv_while_other_threads_wait_in_weft
    assert_ctrl_c_interrupts_main("b.recv(10)", OTHERS)
  end

  def test_ctrl_c_reaches_accept_while_other_threads_wait_in_weft
    assert_ctrl_c_interrupts_main("server.accept", OTHERS)
  end

  def test_ctrl_c_reaches_select
    assert_ctrl_c_interrupts_main("Weft.select([b])", OTHERS)
  end

  def test_ctrl_c_reaches_a_stream_read
    assert_ctrl_c_interrupts_main("b.makefile.gets", OTHERS)
  end

  def test_a_trap_runs_and_recv_goes_on
    code = <<~RUBY
      require "weft"
      a, b = Weft::UNIXSocket.pair
      trap("USR1") { puts "trapped"; $stdout.flush; a.write("done") }
      puts "ready"; $stdout.flush
      puts b.recv(10)
    RUBY
    status, out = ruby_run_signal(code, signal: "USR1")
    assert status.success?, out
    assert_equal %w[ready trapped done], out.split
  end
end
