# frozen_string_literal: true

# Weft::Thread: targets run on Ruby Threads that weft adopts.
require_relative "helper"

class TestThread < WeftTestCase
  def test_value_of_the_block_with_args
    t = Weft::Thread.new(20, 22) { |a, b| a + b }
    assert_same t, t.join
    assert_equal 42, t.value
    assert_equal 0, t.result
    refute t.alive?
  end

  def test_alive_from_start_until_the_target_returns
    go = Weft::Event.new
    t = Weft::Thread.new { go.wait }
    assert t.alive? # start returned: alive already
    assert_nil t.join(0)
    assert_nil t.join(0.01)
    go.set
    assert_same t, t.join(30)
    refute t.alive?
  end

  def test_start_false_then_start_once
    t = Weft::Thread.new(start: false) { :ran }
    refute t.alive?
    refute t.started?
    assert_nil t.ident
    assert_raises(Weft::StateError) { t.join } # not started
    assert_same t, t.start
    assert_equal :ran, t.value
    assert_raises(Weft::StateError) { t.start }
  end

  def test_current_thread_in_the_target_is_the_thread
    t = Weft::Thread.new(name: "me") do
      [Weft.current_thread, Weft.current_thread.name, Weft::Native.thread_current_ident,
       Weft::Native.thread_current_native_id]
    end
    current, name, ident, native_id = t.value
    assert_same t, current
    assert_equal "me", name
    assert_equal ident, t.ident
    assert_equal native_id, t.native_id
    refute_equal Weft::Native.thread_current_ident, t.ident
  end

  def test_the_target_runs_on_its_ruby_thread
    t = Weft::Thread.new { ::Thread.current }
    assert_same t.ruby_thread, t.value
    refute_same ::Thread.current, t.value
  end

  def test_names
    t = Weft::Thread.new(start: false)
    assert_match(/\AThread-\d+\z/, t.name)
    t.name = "renamed"
    assert_equal "renamed", t.name
    long = "é" * 40
    t.name = long
    assert_equal long, t.name # longer than the first buffer try
    assert_equal Encoding::UTF_8, t.name.encoding
  end

  def test_daemon_flag
    t = Weft::Thread.new(daemon: true, start: false) { Weft.current_thread.daemon? }
    assert t.daemon?
    t.start
    assert t.value
    assert_raises(Weft::StateError) { t.daemon = false }
    refute Weft::Thread.new(start: false).daemon? # inherited from main
  end

  def test_main_list_and_active_count
    main = Weft.main_thread
    assert_equal "MainThread", main.name
    assert_same main, Weft.main_thread
    assert_equal main, Weft.current_thread
    go = Weft::Event.new
    t = Weft::Thread.new { go.wait }
    assert_includes Weft.list, t
    assert_same t, Weft.list.find { |x| x == t }
    assert_includes Weft.list, main
    assert_operator Weft.active_count, :>=, 2
    go.set
    t.join
    refute_includes Weft.list, t
  end

  def test_joining_the_current_thread_is_refused
    t = Weft::Thread.new do
      Weft.current_thread.join
    rescue Weft::StateError => e
      e
    end
    assert_kind_of Weft::StateError, t.value
  end

  def test_subclass_overrides_run
    klass = Class.new(Weft::Thread) do
      def run
        [:subclassed, Weft.current_thread.equal?(self)]
      end
    end
    assert_equal [:subclassed, true], klass.new.value
  end

  def test_exception_is_reported_and_result_is_nonzero
    err = capture_stderr do
      t = Weft::Thread.new(name: "failing") { raise ArgumentError, "target failed" }
      t.join
      assert_equal 1, t.result
      e = assert_raises(ArgumentError) { t.value }
      assert_equal "target failed", e.message
      t.ruby_thread.join rescue nil # rubocop:disable Style/RescueModifier
    end
    assert_match(/failing.*terminated with exception/, err)
    assert_includes err, "target failed"
  end

  def test_wrapping_a_thread_handle_from_elsewhere
    t = Weft::Thread.new { 7 }
    t.join
    other = Weft::Thread.wrap(t.handle)
    refute other.owned_handle?
    assert_equal 0, other.value # its weft result: Ruby values stay with t
    assert_nil other.ruby_thread
    assert_raises(Weft::BadHandleError) { Weft::Thread.wrap(Weft::Lock.new.handle) }
  end

  def test_a_start_from_outside_ruby_never_enters_ruby
    ran = false
    t = Weft::Thread.new(start: false) { ran = true }
    Weft::Native.thread_start(t.handle) # as another language would: a weft OS thread
    assert t.join(30)
    assert_equal Weft::Native::WEFT_ESTATE, t.result
    refute ran
    assert_raises(Weft::StateError) { t.start } # weft refuses to adopt it now
  end

  def test_raw_daemon_flag_takes_integers_and_booleans
    t = Weft::Thread.new(start: false)
    Weft::Native.thread_set_daemon(t.handle, 1)
    assert t.daemon?
    Weft::Native.thread_set_daemon(t.handle, 0)
    refute t.daemon?
    Weft::Native.thread_set_daemon(t.handle, true)
    assert t.daemon?
    Weft::Native.thread_set_daemon(t.handle, nil)
    refute t.daemon?
  end

  def test_closing_a_running_thread_detaches_it
    go = Weft::Event.new
    t = Weft::Thread.new { go.wait }
    h = t.handle
    t.close
    assert Weft::Native.thread_is_alive(h) # it runs on
    assert_raises(Weft::BadHandleError) { Weft::Native.close(h) }
    go.set
    t.ruby_thread.join
    assert_raises(Weft::BadHandleError) { Weft::Native.thread_is_alive(h) }
  end

  def test_many_threads_at_once
    lock = Weft::Lock.new
    seen = []
    threads = Array.new(16) { |i| Weft::Thread.new(i) { |n| lock.synchronize { seen << n } } }
    threads.each(&:join)
    assert_equal (0...16).to_a, seen.sort
    assert_equal [0], threads.map(&:result).uniq
  end
end
