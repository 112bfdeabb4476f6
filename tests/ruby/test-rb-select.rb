# frozen_string_literal: true

# Weft.select (IO.select's shape) and Weft::Poller over Weft sockets,
# Weft::Events (readable while set), raw descriptors and Ruby IOs; both
# poller backends.
require_relative "socket_helper"

class TestSelect < WeftSocketTestCase
  def setup
    @a, @b = Weft::UNIXSocket.pair
  end

  def teardown
    @a.close
    @b.close
    super
  end

  def test_nothing_ready_times_out_with_nil
    assert_nil Weft.select([@b], nil, nil, 0)
    assert_nil Weft.select([@b], [], [], 0.01)
  end

  def test_readable_and_writable_in_the_order_given
    @a.write("x")
    r, w, e = Weft.select([@a, @b], [@a, @b], nil, 5)
    assert_equal [@b], r
    assert_equal [@a, @b], w
    assert_equal [], e
    assert_same @b, r[0] # the objects given, not copies
  end

  # Bytes a failed gets took stay with the socket, where recv finds them
  # at once: select must say so, or a select-then-recv loop waits for
  # data it already has (as Lua's "dirty" sockets).
  def test_a_socket_holding_what_a_failed_gets_took_is_readable
    @b.timeout = 0.05
    @a.write("abc")
    assert_raises(Weft::TimeoutError) { @b.gets }
    assert_equal [[@b], [@a], []], Weft.select([@a, @b], [@a], nil, 5)
    assert_equal [[@b], [], []], Weft.select([@b], nil, nil, nil)
    assert @b.pending?
    assert_equal "abc", @b.recv(10)
    refute @b.pending?
    assert_nil Weft.select([@b], nil, nil, 0)
  end

  # Native.select_wait converts its lists with to_ary: one that changes an
  # earlier list must not make it read past that list's end.
  def test_a_to_ary_that_empties_another_list
    @a.write("x")
    readers = [@b.handle] * 1000
    sneaky = Object.new
    sneaky.define_singleton_method(:to_ary) do
      readers.clear
      []
    end
    assert_nil Weft::Native.select_wait(readers, sneaky, [], 0)
  end

  def test_select_waits_for_data
    t = ::Thread.new { Weft.select([@b]) }
    wait_blocked(t)
    @a.write("wake")
    assert_equal [[@b], [], []], t.value
  end

  def test_an_event_is_readable_while_set
    stop = Weft::Event.new
    assert_nil Weft.select([stop], nil, nil, 0)
    t = ::Thread.new { Weft.select([@b, stop]) }
    wait_blocked(t)
    stop.set
    assert_equal [stop], t.value[0]
    assert_equal [stop], Weft.select([stop], nil, nil, 0)[0] # still set
  end

  def test_a_listening_socket_is_readable_when_someone_connects
    server = Weft::TCPServer.new(LOOPBACK, 0)
    assert_nil Weft.select([server], nil, nil, 0)
    client = Weft::TCPSocket.new(LOOPBACK, server.local_address.ip_port)
    assert_equal [server], Weft.select([server], nil, nil, 30)[0]
    server.accept.close
  ensure
    client&.close
    server&.close
  end

  def test_the_end_of_the_stream_is_readable
    @a.close_write
    assert_equal [@b], Weft.select([@b], nil, nil, 5)[0]
    assert_equal "", @b.recv(1)
  end

  def test_many_sockets_beyond_fd_setsize
    pairs = Array.new(600) { Weft::UNIXSocket.pair }
    pairs.last[0].write("!")
    r, = Weft.select(pairs.map(&:last), nil, nil, 5)
    assert_equal [pairs.last[1]], r
  ensure
    pairs&.flatten&.each(&:close)
  end

  def test_bad_members
    assert_raises(TypeError) { Weft.select([$stdin]) }
    assert_raises(TypeError) { Weft.select([@b.makefile]) }
    assert_raises(Weft::BadHandleError) { Weft.select([Weft::Lock.new], nil, nil, 0) }
    assert_raises(ArgumentError) { Weft.select([@b], nil, nil, -1) }
    s = Weft::UNIXSocket.pair[0]
    s.close
    assert_raises(Weft::BadHandleError) { Weft.select([s], nil, nil, 0) }
  end
end

class TestPoller < WeftSocketTestCase
  def setup
    @a, @b = Weft::UNIXSocket.pair
    @poller = Weft::Poller.new
  end

  def teardown
    @poller.close
    @a.close
    @b.close
    super
  end

  def test_a_registration_reports_its_key_and_bits
    @poller.register(@b, :in, :the_b_side)
    assert_equal [], @poller.wait(0)
    @a.write("x")
    assert_equal [[:the_b_side, Weft::Poller::IN]], @poller.wait(5)
  end

  def test_the_key_defaults_to_the_target
    @poller.register(@a, Weft::Poller::OUT)
    key, bits = @poller.wait(5)[0]
    assert_same @a, key
    refute_equal 0, bits & Weft::Poller::OUT
  end

  def test_wait_blocks_until_ready
    @poller.register(@b, :in, 1)
    t = ::Thread.new { @poller.wait }
    wait_blocked(t)
    @a.write("go")
    assert_equal [[1, Weft::Poller::IN]], t.value
  end

  def test_modify_changes_events_and_key
    @poller.register(@a, :in, :old)
    assert_equal [], @poller.wait(0)
    @poller.modify(@a, :out, :new)
    assert_equal :new, @poller.wait(5)[0][0]
  end

  def test_unregister_and_registered
    @poller.register(@a, :out)
    assert @poller.registered?(@a)
    @poller.unregister(@a)
    refute @poller.registered?(@a)
    assert_equal [], @poller.wait(0)
    assert_raises(Errno::ENOENT) { @poller.unregister(@a) }
  end

  def test_registering_twice_is_eexist
    @poller.register(@a, :in)
    assert_raises(Errno::EEXIST) { @poller.register(@a, :out) }
  end

  def test_oneshot_reports_once_until_modified
    @a.write("x")
    @poller.register(@b, %i[in oneshot], :b)
    assert_equal [[:b, Weft::Poller::IN]], @poller.wait(5)
    assert_equal [], @poller.wait(0)
    @poller.modify(@b, %i[in oneshot])
    assert_equal [[:b, Weft::Poller::IN]], @poller.wait(5)
  end

  def test_edge_triggered_reports_new_data_only
    @poller.register(@b, %i[in et], :b)
    @a.write("1")
    assert_equal [[:b, Weft::Poller::IN]], @poller.wait(5)
    assert_equal [], @poller.wait(0) # the same data: no new edge
    @a.write("2")
    assert_equal [[:b, Weft::Poller::IN]], @poller.wait(5)
  end

  def test_events_and_sockets_together
    stop = Weft::Event.new
    @poller.register(@b, :in, :data)
    @poller.register(stop, :in, :stop)
    stop.set
    assert_equal [[:stop, Weft::Poller::IN]], @poller.wait(5)
  end

  def test_raw_descriptors_and_ruby_ios
    r, w = IO.pipe
    @poller.register(r, :in, :pipe)
    @poller.register(@b.fileno, :in, :raw)
    w.write("x")
    @a.write("y")
    got = @poller.wait(5).map(&:first).sort
    assert_equal %i[pipe raw], got
    @poller.unregister(r)
    @poller.unregister(@b.fileno)
  ensure
    r&.close
    w&.close
  end

  def test_max_limits_one_wait_and_the_rest_comes_next
    pairs = Array.new(5) { Weft::UNIXSocket.pair }
    pairs.each_with_index do |(x, y), i|
      x.write("!")
      @poller.register(y, :in, i)
    end
    first = @poller.wait(5, 2)
    assert_equal 2, first.size
    rest = @poller.wait(5, 10) # level-triggered: the first two again too
    assert_equal (0...5).to_a, (first + rest).map(&:first).uniq.sort
  ensure
    pairs&.flatten&.each(&:close)
  end

  def test_closing_a_target_unregisters_it
    x, y = Weft::UNIXSocket.pair
    @poller.register(y, :in, :gone)
    x.write("!")
    y.close
    assert_equal [], @poller.wait(0)
    x.close
  end

  def test_the_poll_backend_behaves_the_same
    poller = Weft::Poller.new(backend: :poll)
    poller.register(@b, %i[in et], :b)
    @a.write("1")
    assert_equal [[:b, Weft::Poller::IN]], poller.wait(5)
    @b.recv(10)
    assert_equal [], poller.wait(0)
    poller.close
  end

  def test_bad_arguments
    assert_raises(ArgumentError) { @poller.register(@a, :sideways) }
    assert_raises(TypeError) { @poller.register("a", :in) }
    assert_raises(TypeError) { @poller.register(@a.makefile, :in) }
    assert_raises(Weft::ValueError) { @poller.register(@a, 1 << 20) }
    assert_raises(ArgumentError) { @poller.wait(-1) }
    assert_raises(Weft::ValueError) { @poller.wait(0, 0) }
    assert_raises(ArgumentError) { Weft::Poller.new(backend: :kqueue) }
  end
end
