# frozen_string_literal: true

# Weft::Stream, the buffered stream of Socket#makefile and of any other
# descriptor: lines (gets, each_line), reads of every kind, writes in sync
# and buffered modes, megabytes through sendall and write intact, a
# timeout that keeps what was read, close.
require_relative "socket_helper"

class TestStreamLines < WeftSocketTestCase
  def setup
    @a, @b = Weft::UNIXSocket.pair
    @in = @b.makefile("r")
  end

  def teardown
    @in.close
    @a.close
    @b.close
    super
  end

  def test_gets_reads_lines_through_the_newline
    @a.write("one\ntwo\nthr")
    @a.write("ee\n")
    assert_equal "one\n", @in.gets
    assert_equal "two\n", @in.gets
    assert_equal "three\n", @in.gets
  end

  def test_gets_gives_the_last_line_then_nil
    @a.write("last")
    @a.close_write
    assert_equal "last", @in.gets
    assert_nil @in.gets
  end

  def test_gets_with_limit_and_chomp
    @a.write("abcdef\r\nxy\n")
    assert_equal "abc", @in.gets(3)
    assert_equal "def", @in.gets(chomp: true)
    assert_equal "xy", @in.gets("\n", chomp: true)
  end

  def test_a_line_longer_than_the_buffer
    line = "#{'x' * 100_000}\n"
    writer = ::Thread.new { @a.write(line) }
    assert_equal line, @in.gets
    writer.join
  end

  def test_each_line_until_the_end
    writer = ::Thread.new do
      100.times { |i| @a.puts("line #{i}") }
      @a.close_write
    end
    lines = @in.each_line(chomp: true).to_a
    writer.join
    assert_equal(100.times.map { |i| "line #{i}" }, lines)
  end

  def test_readline_raises_eof_at_the_end
    @a.close_write
    assert_raises(EOFError) { @in.readline }
  end

  def test_readlines
    @a.write("a\nb\n")
    @a.close_write
    assert_equal %W[a\n b\n], @in.readlines
  end

  def test_other_separators_are_refused
    assert_raises(ArgumentError) { @in.gets("--") }
    assert_raises(ArgumentError) { @in.gets("") }
  end

  def test_lines_are_binary
    @a.write("é\n")
    line = @in.gets
    assert_equal Encoding::BINARY, line.encoding
    assert_equal "é\n".b, line
  end
end

class TestStreamReads < WeftSocketTestCase
  def setup
    @a, @b = Weft::UNIXSocket.pair
    @in = @b.makefile("r")
  end

  def teardown
    @in.close
    @a.close
    @b.close
    super
  end

  def test_read_length_waits_for_all_of_it
    writer = ::Thread.new { "abcdef".each_char { |c| @a.write(c) } }
    assert_equal "abcdef", @in.read(6)
    writer.join
  end

  def test_read_at_the_end_is_nil_and_read_all_is_empty
    @a.write("tail")
    @a.close_write
    assert_equal "tail", @in.read
    assert_nil @in.read(1)
    assert_equal "", @in.read
  end

  def test_readpartial_gives_what_is_there
    @a.write("part")
    assert_equal "pa", @in.readpartial(2)
    assert_equal "rt", @in.readpartial(100) # from the buffer
    @a.close_write
    assert_raises(EOFError) { @in.readpartial(1) }
  end

  def test_timeout_keeps_what_was_read
    @in.timeout = 0.05
    @a.write("half a li")
    assert_raises(Weft::TimeoutError) { @in.gets }
    @a.write("ne\n")
    assert_equal "half a line\n", @in.gets
  end

  def test_non_blocking_stream_raises_wait_readable
    @in.timeout = 0
    assert_raises(IO::EAGAINWaitReadable) { @in.read(1) }
  end

  def test_the_stream_copies_the_sockets_timeout
    @b.timeout = 1.5
    s = @b.makefile("r")
    assert_in_delta 1.5, s.timeout
    s.close
  end
end

class TestStreamWrites < WeftSocketTestCase
  def setup
    @a, @b = Weft::UNIXSocket.pair
  end

  def teardown
    @a.close
    @b.close
    super
  end

  def test_sync_stream_sends_every_write
    out = @a.makefile("w")
    assert out.sync
    out.print("now")
    assert_equal "now", @b.recv(10)
    out.close
  end

  def test_buffered_stream_sends_on_flush
    out = @a.makefile("w", sync: false)
    out.write("later")
    @b.timeout = 0
    assert_raises(IO::WaitReadable) { @b.recv(10) }
    out.flush
    @b.timeout = nil
    assert_equal "later", @b.recv(10)
    out.close
  end

  def test_close_flushes
    out = @a.makefile("w", sync: false)
    out << "flushed " << "at close"
    out.close
    assert_equal "flushed at close", @b.read(16)
  end

  def test_puts_printf_and_write_count
    out = @a.makefile("w")
    assert_equal 4, out.write("ab", "cd")
    out.puts("x", ["y"])
    out.printf("%03d\n", 7)
    out.close
    assert_equal "abcdx\ny\n007\n", @b.read(12)
  end

  def test_read_write_stream_both_ways
    rw = @a.makefile
    peer = @b.makefile
    rw.puts "question"
    assert_equal "question\n", peer.gets
    peer.puts "answer"
    assert_equal "answer\n", rw.gets
    rw.close
    peer.close
  end

  def test_the_stream_and_the_socket_close_independently
    out = @a.makefile("w")
    @a.close
    out.puts "still open"
    assert_equal "still open\n", @b.read(11)
    out.close
    @a = Weft::UNIXSocket.pair[0] # for teardown
  end

  def test_closed_stream_raises_closed_error
    s = @a.makefile
    s.close
    assert s.closed?
    assert_raises(Weft::ClosedError) { s.gets }
    assert_raises(IOError) { s.write("x") }
    assert_nil s.close
  end
end

class TestBulkTransfer < WeftSocketTestCase
  SIZE = 4 << 20

  def payload
    @payload ||= Random.new(42).bytes(SIZE)
  end

  def test_sendall_of_megabytes_over_tcp_arrives_intact
    a, b = tcp_pair
    reader = ::Thread.new { b.read(SIZE) }
    assert_equal SIZE, a.sendall(payload)
    got = reader.value
    assert_equal SIZE, got.bytesize
    assert_equal Digest::SHA256.hexdigest(payload), Digest::SHA256.hexdigest(got)
  ensure
    a&.close
    b&.close
  end

  def test_stream_write_of_megabytes_arrives_intact
    a, b = Weft::UNIXSocket.pair
    out = a.makefile("w", sync: false)
    reader = ::Thread.new { b.makefile("r").read }
    out.write(payload)
    out.close
    a.close
    assert_equal Digest::SHA256.hexdigest(payload), Digest::SHA256.hexdigest(reader.value)
  ensure
    b&.close
  end

  def test_many_small_lines_arrive_in_order
    a, b = tcp_pair
    writer = ::Thread.new do
      out = a.makefile("w", sync: false)
      10_000.times { |i| out.puts(i) }
      out.close
      a.close_write
    end
    count = 0
    b.makefile("r").each_line do |line|
      assert_equal "#{count}\n", line
      count += 1
    end
    writer.join
    assert_equal 10_000, count
  ensure
    a&.close
    b&.close
  end
end

class TestStreamOverDescriptors < WeftSocketTestCase
  def test_a_stream_over_a_pipe
    r, w = IO.pipe
    out = Weft::Stream.new(w, "w")
    w.close # the stream has its own duplicate
    out.puts "through a pipe"
    out.close
    assert_equal "through a pipe\n", r.read
  ensure
    r&.close
  end

  def test_a_stream_reads_a_file
    path = unix_path("file.txt")
    File.write(path, "first\nsecond\n")
    File.open(path) do |f|
      s = Weft::Stream.new(f)
      assert_equal %W[first\n second\n], s.readlines
      assert s.readable?
      refute s.writable?
      s.close
    end
  end

  def test_bad_modes_and_descriptors
    assert_raises(ArgumentError) { Weft::Stream.new(0, "x") }
    assert_raises(Errno::EBADF) { Weft::Stream.new(987_654, "r") }
    assert_raises(TypeError) { Weft::Stream.new("0") }
  end

  def test_wrong_kind_of_handle
    lock = Weft::Lock.new
    assert_raises(Weft::BadHandleError) { Weft::Stream.for_handle(lock.handle) }
    assert_raises(Weft::BadHandleError) { Weft::Native.stream_read(lock.handle, 10) }
  end
end
