# frozen_string_literal: true

# Weft::Signal: handlers set with Weft::Signal.trap run on the binding's
# "weft-signals" Ruby thread (or on the main thread that raised the
# signal), never on a thread Ruby does not know; a weft wait of the main
# thread goes on through signals with its deadline, and ends when a
# handler raises (the exception is the main thread's, as a trap
# handler's).  Every test puts back the handlers it changed.
require_relative "socket_helper"
require "io/nonblock"

class TestSignal < WeftSocketTestCase
  S = Weft::Signal

  class HandlerError < StandardError; end
  TOUCHED = %i[USR1 USR2 ALRM WINCH].freeze

  def setup
    super
    @saved = TOUCHED.to_h { |s| [s, S.handler(s)] }
  end

  def teardown
    S.setitimer(:REAL, 0)
    S.set_wakeup_fd(-1)
    @saved.each { |s, h| S.trap(s, h) }
    super
  end

  # An interval timer that sends SIGALRM every `every` seconds to a
  # handler counting the ticks (and running `on_tick` with the count).
  def ticking(every = 0.01, &on_tick)
    ticks = 0
    S.trap(:ALRM) do
      ticks += 1
      on_tick&.call(ticks)
    end
    S.setitimer(:REAL, every, every)
    -> { ticks }
  end

  # Send `sig` to this process from a thread once the main thread waits.
  def kill_when_main_waits(sig)
    ::Thread.new do
      ::Thread.pass until ::Thread.main.status == "sleep"
      Process.kill(sig, Process.pid)
    end
  end

  # ---- handlers run -------------------------------------------------

  def test_raise_runs_the_handler_before_it_returns_on_the_main_thread
    got = []
    S.trap(:USR1) { |signo| got << [signo, ::Thread.current] }
    S.raise(:USR1)
    assert_equal [[S::SIGUSR1, ::Thread.main]], got
    S.raise_signal("SIGUSR1")
    assert_equal 2, got.size
  end

  def test_a_signal_from_another_process_runs_the_handler_on_the_signals_thread
    ran = Weft::Event.new
    where = nil
    S.trap("USR2") do |signo|
      where = [signo, ::Thread.current.name]
      ran.set
    end
    pid = spawn(RbConfig.ruby, "-e", "Process.kill(:USR2, #{Process.pid})")
    Process.wait(pid)
    assert ran.wait(30), "the handler did not run"
    assert_equal [S::SIGUSR2, "weft-signals"], where
    assert_equal ::Thread.current, ::Thread.main # nothing raised here
  end

  def test_a_signal_from_another_thread_runs_the_handler
    got = Queue.new
    S.trap(:USR1) { |signo| got << signo }
    ::Thread.new { S.raise(:USR1) }.join
    assert_equal S::SIGUSR1, got.pop
  end

  def test_pthread_kill_reaches_a_weft_thread
    got = Queue.new
    S.trap(:USR1) { got << :ran }
    event = Weft::Event.new
    t = Weft::Thread.new { event.wait }
    S.pthread_kill(t, 0) # alive
    S.pthread_kill(t, :USR1)
    assert_equal :ran, got.pop
    event.set
    t.join
    assert_raises(Errno::ESRCH) { S.pthread_kill(t, 0) }
  end

  def test_a_lambda_without_parameters_is_called_without_the_number
    got = []
    S.trap(:USR1, -> { got << :called })
    S.raise(:USR1)
    assert_equal [:called], got
  end

  def test_dispatch_runs_what_is_pending_here
    assert_equal 0, S.dispatch
    assert_equal 0, S.dispatch(:USR1)
  end

  def test_pause_returns_once_the_handler_ran
    ran = 0
    S.trap(:ALRM) { ran += 1 }
    S.setitimer(:REAL, 0.05)
    S.pause
    assert_operator ran, :>=, 1
  end

  # ---- waits go on through signals ---------------------------------

  def test_an_itimer_signal_lets_lock_acquire_go_on_until_it_succeeds
    lock = Weft::Lock.new
    lock.lock
    ticks = ticking { |n| lock.release if n == 3 }
    assert lock.acquire(60), "the acquire must go on through the signals"
    assert_operator ticks.call, :>=, 3
  end

  def test_an_itimer_signal_lets_a_timed_acquire_time_out_with_its_deadline
    lock = Weft::Lock.new
    lock.lock
    ticks = ticking
    start = Weft.monotonic
    refute lock.acquire(0.3)
    assert_operator Weft.monotonic - start, :>=, 0.3, "returned before its deadline"
    assert_operator ticks.call, :>=, 2
  end

  def test_an_itimer_signal_lets_recv_go_on
    a, b = Weft::UNIXSocket.pair
    ticking { |n| a.sendall("x") if n == 3 }
    assert_equal "x", b.recv(10)
  ensure
    a&.close
    b&.close
  end

  def test_an_itimer_signal_lets_a_recv_with_a_timeout_time_out
    a, b = Weft::UNIXSocket.pair
    b.timeout = 0.3
    ticks = ticking
    start = Weft.monotonic
    assert_raises(Weft::TimeoutError) { b.recv(10) }
    assert_operator Weft.monotonic - start, :>=, 0.3
    assert_operator ticks.call, :>=, 2
  ensure
    a&.close
    b&.close
  end

  def test_an_itimer_signal_lets_select_go_on
    a, b = Weft::UNIXSocket.pair
    ticking { |n| a.sendall("x") if n == 3 }
    r, = Weft.select([b], nil, nil, 60)
    assert_equal [b], r
    start = Weft.monotonic
    b.recv(1)
    assert_nil Weft.select([b], nil, nil, 0.3)
    assert_operator Weft.monotonic - start, :>=, 0.3
  ensure
    a&.close
    b&.close
  end

  # ---- other delivery modes, set by another binding ------------------

  # With `mode` (weft_signal_set_delivery) after the handlers are set.
  def with_delivery(mode)
    Weft::Native.signal_set_delivery(mode, 0)
    yield
  ensure
    Weft::Native.signal_set_delivery(Weft::Native::WEFT_SIGNAL_DISPATCH, 0)
  end

  def test_a_handler_weft_runs_on_its_own_thread_runs_on_the_signals_thread
    got = Queue.new
    S.trap(:USR1) { got << ::Thread.current.name }
    with_delivery(Weft::Native::WEFT_SIGNAL_THREAD) do
      ::Thread.new { S.raise(:USR1) }.join
      assert_equal "weft-signals", got.pop # not weft's thread: Ruby does not know it
    end
  end

  def test_a_handler_weft_runs_inside_a_wait_of_the_main_thread_takes_the_gvl
    where = Queue.new
    lock = Weft::Lock.new
    lock.lock
    ticking do |n|
      where << ::Thread.current
      lock.release if n == 3
    end
    with_delivery(Weft::Native::WEFT_SIGNAL_WAITS) do
      assert lock.acquire(60)
    end
    threads = []
    threads << where.pop until where.empty?
    assert_operator threads.size, :>=, 3
    assert threads.all? { |t| [::Thread.main, Weft::Native.signal_thread].include?(t) }, threads.inspect
  end

  def test_a_handler_that_raises_inside_a_wait_of_the_main_thread_ends_it
    S.trap(:USR1) { raise HandlerError, "inside" }
    lock = Weft::Lock.new
    lock.lock
    with_delivery(Weft::Native::WEFT_SIGNAL_WAITS) do
      killer = kill_when_main_waits(:USR1)
      assert_raises(HandlerError) { lock.acquire }
      killer.join
    end
  end

  # ---- a handler that raises ----------------------------------------

  def test_a_handler_that_raises_ends_the_main_threads_wait
    S.trap(:USR1) { raise HandlerError, "from the handler" }
    lock = Weft::Lock.new
    lock.lock
    killer = kill_when_main_waits(:USR1)
    e = assert_raises(HandlerError) { lock.acquire }
    assert_equal "from the handler", e.message
    assert lock.locked?
    killer.join
  end

  def test_a_handler_that_raises_ends_a_select_and_a_recv
    a, b = Weft::UNIXSocket.pair
    S.trap(:USR2) { raise HandlerError }
    [-> { Weft.select([b]) }, -> { b.recv(1) }].each do |wait|
      killer = kill_when_main_waits(:USR2)
      assert_raises(HandlerError) { wait.call }
      killer.join
    end
    a.sendall("y")
    assert_equal "y", b.recv(1) # the interrupted recv took nothing
  ensure
    a&.close
    b&.close
  end

  def test_raise_on_the_main_thread_raises_the_handlers_exception
    S.trap(:USR1) { raise HandlerError, "now" }
    assert_raises(HandlerError) { S.raise(:USR1) }
  end

  # ---- the wakeup descriptor ----------------------------------------

  def test_set_wakeup_fd_writes_the_signal_number_for_select
    r, w = Weft::UNIXSocket.pair
    w.timeout = 0 # non-blocking
    S.trap(:USR1) {}
    assert_equal(-1, S.set_wakeup_fd(w))
    S.raise(:USR1)
    assert_equal [r], Weft.select([r], nil, nil, 30)[0]
    assert_equal [S::SIGUSR1].pack("C"), r.recv(10)
    assert_equal w.fileno, S.set_wakeup_fd(-1)
  ensure
    r&.close
    w&.close
  end

  def test_set_wakeup_fd_refuses_a_blocking_descriptor
    r, w = IO.pipe
    w.nonblock = false
    assert_raises(Weft::ValueError) { S.set_wakeup_fd(w) }
    assert_raises(Errno::EBADF) { S.set_wakeup_fd(1 << 20) }
  ensure
    r&.close
    w&.close
  end

  # ---- previous handlers, restoring ---------------------------------

  def test_trap_takes_names_and_numbers_and_returns_the_previous_handler
    first = proc {}
    second = proc {}
    S.trap(:USR1, first)
    assert_same first, S.trap("SIGUSR1", second)
    assert_same second, S.trap("USR1", "IGNORE")
    assert_equal "IGNORE", S.trap(:SIGUSR1, "SYSTEM_DEFAULT")
    assert_equal "SYSTEM_DEFAULT", S.trap(S::SIGUSR1, first)
    assert_same first, S.handler(:USR1)
    assert_same first, S.getsignal(S::SIGUSR1)
  end

  def test_a_signal_ruby_handles_is_default_and_goes_back_to_ruby
    assert_equal "DEFAULT", S.handler(:USR1) # Ruby's SignalException
    old = S.trap(:USR1) {}
    assert_equal "DEFAULT", old
    S.trap(:USR1, old)
    e = assert_raises(SignalException) do
      Process.kill(:USR1, Process.pid)
      sleep 30 # Ruby raises it here
    end
    assert_equal "SIGUSR1", e.message
  end

  def test_a_ruby_trap_taken_over_is_ruby_s_again_when_given_back
    got = []
    ::Signal.trap(:USR2) { |signo| got << [signo, ::Thread.current] }
    mine = proc { got << :weft }
    old = S.trap(:USR2, mine)
    assert_kind_of Proc, old
    S.raise(:USR2)
    assert_equal [:weft], got
    assert_same mine, S.trap(:USR2, old)
    assert_equal "DEFAULT", S.handler(:USR2) # Ruby's handler again
    Process.kill(:USR2, Process.pid)
    assert_equal [:weft, [S::SIGUSR2, ::Thread.main]], got
  end

  def test_ruby_and_weft_see_each_others_ignore_and_system_default
    S.trap(:WINCH, "IGNORE")
    assert_equal "IGNORE", S.handler(:WINCH)
    assert_equal "IGNORE", ::Signal.trap(:WINCH, "SYSTEM_DEFAULT")
    assert_equal "SYSTEM_DEFAULT", S.handler(:WINCH)
  end

  # ---- bad input -----------------------------------------------------

  def test_bad_signal_numbers_are_einval
    [0, S::NSIG, :KILL, :STOP].each do |sig|
      assert_raises(Errno::EINVAL, sig.inspect) { S.trap(sig) {} }
    end
    assert_raises(Errno::EINVAL) { S.trap(-1, "IGNORE") }
    assert_raises(Errno::EINVAL) { S.raise(0) }
    assert_raises(Errno::EINVAL) { S.strsignal(S::NSIG) }
    assert_raises(Errno::EINVAL) { S.siginterrupt(0, true) }
    e = assert_raises(Errno::EINVAL) { S.trap(:KILL, "IGNORE") }
    assert_kind_of Weft::Error, e
    assert_includes e.message, "cannot be caught"
  end

  def test_bad_names_commands_and_reserved_signals_are_argument_errors
    assert_raises(ArgumentError) { S.trap(:NOSUCH) {} }
    assert_raises(ArgumentError) { S.trap(1.5) {} }
    assert_raises(ArgumentError) { S.trap(:USR1, "BOGUS") }
    assert_raises(ArgumentError) { S.trap(:USR1, 42) }
    assert_raises(ArgumentError) { S.trap(:USR1) }
    %i[SEGV BUS ILL FPE VTALRM].each do |sig|
      assert_raises(ArgumentError, sig.inspect) { S.trap(sig) {} }
    end
    assert_equal "DEFAULT", S.handler(:USR1) # nothing changed
  end

  def test_bad_itimers_and_times_are_refused
    assert_raises(Errno::EINVAL) { S.setitimer(12_345, 1) }
    assert_raises(Errno::EINVAL) { S.getitimer(-1) }
    assert_raises(Errno::EINVAL) { S.setitimer(:REAL, -1) }
    assert_raises(Errno::EINVAL) { S.setitimer(:REAL, Float::NAN) }
    assert_raises(ArgumentError) { S.setitimer(:SOMETIMES, 1) }
    assert_raises(ArgumentError) { S.alarm(-1) }
  end

  def test_only_the_main_thread_sets_handlers
    error = ::Thread.new do
      S.trap(:USR1) {}
    rescue Weft::StateError => e
      e
    end.value
    assert_kind_of ThreadError, error
    assert_equal "DEFAULT", S.handler(:USR1)
  end

  # ---- the rest of the module ----------------------------------------

  def test_alarm_and_itimers_report_what_was_left
    S.trap(:ALRM) {}
    assert_equal 0, S.alarm(100)
    assert_operator S.alarm(0), :>, 0
    S.setitimer(S::ITIMER_REAL, 100, 50)
    seconds, interval = S.getitimer("ITIMER_REAL")
    assert_operator seconds, :>, 0
    assert_in_delta 50, interval, 0.001
    old, = S.setitimer(:real, 0)
    assert_operator old, :>, 0
    assert_equal [0.0, 0.0], S.getitimer(:REAL)
  end

  def test_names_numbers_and_descriptions
    assert_equal 2, S::SIGINT
    assert_equal S::SIGINT, S.list["INT"]
    assert_equal "INT", S.signame(S::SIGINT)
    assert_equal "Interrupt", S.strsignal(:INT)
    valid = S.valid_signals
    assert_includes valid, S::SIGINT
    refute_includes valid, 0
    refute_includes valid, S::NSIG
    S.siginterrupt(:USR1, false)
    S.siginterrupt(:USR1, true)
  end

  # Every signal call of weft.h is in Weft::Native but the two that are
  # the binding's own business (weft_signal_set_check, weft_signal_wait).
  def test_every_signal_call_is_bound
    header = File.read(File.join(ENV.fetch("top_srcdir", File.expand_path("../..", __dir__)), "abi/weft.h"))
    calls = header.scan(/\bweft_(signal_\w+)\(/).flatten.uniq - %w[signal_set_check signal_wait]
    assert_operator calls.size, :>=, 15
    missing = calls.reject { |c| Weft::Native.respond_to?(c) }
    assert_empty missing
  end

  # ---- fork, Ruby's own signals ---------------------------------------

  def test_handlers_run_in_a_forked_child
    # ThreadSanitizer cannot start threads in a fork child, and the
    # child's signal threads are made again.
    skip "ThreadSanitizer: no threads in a fork child" if ENV["SANITIZER"] == "tsan"
    S.trap(:USR1) { exit!(0) }
    pid = fork do
      Process.kill(:USR1, Process.pid) # the child's signals thread runs it
      sleep 30
      exit!(1)
    end
    assert Process.wait2(pid)[1].success?, "the handler did not run in the child"
  end

  def test_thread_kill_reaches_a_weft_wait_while_handlers_exist
    S.trap(:USR1) {}
    event = Weft::Event.new
    t = ::Thread.new { event.wait }
    wait_blocked(t)
    t.kill
    assert t.join(30), "killed thread did not end"
  end

  # Ruby's own signals (Ctrl-C, Signal.trap) still reach a main thread
  # waiting in weft while Weft handlers exist and every thread waits.
  RUBY_SIDE = <<~RUBY
    trap("INT", "DEFAULT")
    require "weft"
    Weft::Signal.trap(:HUP) {}
    lock = Weft::Lock.new
    lock.lock
    event = Weft::Event.new
    other = Thread.new { event.wait }
    Thread.pass until other.status == "sleep"
    at_exit { event.set }
  RUBY

  def test_ctrl_c_reaches_main_while_weft_handlers_exist
    code = RUBY_SIDE + <<~RUBY
      begin
        puts "ready"; $stdout.flush
        lock.acquire
      rescue Interrupt
        puts "interrupted"
      end
    RUBY
    status, out = ruby_run(code, signal: "INT", ready: "ready")
    assert status.success?, out
    assert_includes out, "interrupted"
  end

  def test_a_ruby_trap_runs_while_weft_handlers_exist
    code = RUBY_SIDE + <<~RUBY
      done = Weft::Event.new
      trap("USR1") { puts "trapped"; $stdout.flush; done.set }
      puts "ready"; $stdout.flush
      puts done.wait(60) ? "set" : "timeout"
    RUBY
    status, out = ruby_run(code, signal: "USR1", ready: "ready")
    assert status.success?, out
    assert_equal %w[ready trapped set], out.split
  end
end
