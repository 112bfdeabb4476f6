# frozen_string_literal: true

# Blocking weft calls release the GVL and stay interruptible: Thread#kill,
# Thread#raise and Ctrl-C reach a thread blocked in weft, which resumes
# with the time left when the interrupt does not end it.
require_relative "helper"

class TestGVL < WeftTestCase
  # Runs `block` (which blocks in weft) in a Ruby thread and checks that a
  # plain Ruby thread makes progress meanwhile.
  def assert_releases_gvl(&block)
    blocked = ::Thread.new(&block)
    wait_blocked(blocked)
    counter = 0
    spinner = ::Thread.new { loop { counter += 1 } }
    wait_until("the spinner to run while a thread waits in weft") { counter > 1000 }
    spinner.kill.join
    blocked
  end

  def test_lock_acquire_releases_the_gvl
    lock = Weft::Lock.new
    lock.lock
    t = assert_releases_gvl { lock.acquire }
    lock.unlock
    assert t.value
  end

  def test_other_waits_release_the_gvl
    event = Weft::Event.new
    sem = Weft::Semaphore.new(0)
    cond = Weft::Condition.new
    barrier = Weft::Barrier.new(2)
    target = Weft::Thread.new { event.wait }
    waits = [
      -> { event.wait },
      -> { sem.acquire },
      -> { cond.synchronize { cond.wait(30) } },
      -> { barrier.wait },
      -> { target.join },
      -> { Weft.sleep(1) }
    ]
    threads = waits.map { |w| assert_releases_gvl(&w) }
    event.set
    sem.release
    cond.synchronize { cond.signal }
    barrier.wait
    threads.each { |t| assert t.join(30) }
  end

  def test_kill_ends_a_thread_blocked_in_lock_acquire_without_acquiring
    lock = Weft::Lock.new
    lock.lock
    t = ::Thread.new { lock.acquire }
    wait_blocked(t)
    t.kill
    assert t.join(30), "killed thread did not end"
    assert lock.locked?
    lock.unlock
    assert lock.try_lock, "the killed waiter must not hold the lock"
  end

  def test_kill_ends_event_wait_and_join
    event = Weft::Event.new
    busy = Weft::Thread.new { event.wait }
    [::Thread.new { event.wait }, ::Thread.new { busy.join }, ::Thread.new { Weft.sleep(3600) }].each do |t|
      wait_blocked(t)
      t.kill
      assert t.join(30), "killed thread did not end"
    end
    event.set
    busy.join
  end

  def test_raise_reaches_a_blocked_thread
    lock = Weft::Lock.new
    lock.lock
    t = ::Thread.new do
      lock.acquire(3600)
    rescue IOError => e
      e
    end
    wait_blocked(t)
    t.raise(IOError, "wake up")
    assert_equal "wake up", t.value.message
    assert lock.locked?
  end

  def test_deferred_interrupt_lets_the_wait_resume
    event = Weft::Event.new
    got = nil
    t = ::Thread.new do
      ::Thread.handle_interrupt(RuntimeError => :never) do
        got = event.wait # interrupted, then resumed: the raise is deferred
      end
    rescue RuntimeError => e
      [got, e.message]
    end
    wait_blocked(t)
    t.raise("later")
    wait_blocked(t) # back to waiting, not ended
    event.set
    assert_equal [true, "later"], t.value
  end

  def test_interrupted_timed_wait_still_times_out
    lock = Weft::Lock.new
    lock.lock
    t = ::Thread.new do
      ::Thread.handle_interrupt(RuntimeError => :never) do
        [lock.acquire(0.3), :after]
      end
    rescue RuntimeError
      :raised
    end
    wait_blocked(t)
    t.raise("deferred")
    assert_equal :raised, t.value # the wait ended (false), then the raise landed
    assert lock.locked?
  end

  def test_thread_raise_inside_synchronize_releases
    lock = Weft::Lock.new
    inside = Weft::Event.new
    t = ::Thread.new do
      lock.synchronize do
        inside.set
        Weft.sleep(3600)
      end
    rescue IOError
      :raised
    end
    inside.wait
    wait_blocked(t)
    t.raise(IOError)
    assert_equal :raised, t.value
    refute lock.locked?
  end

  # SIGINT to a process whose main thread waits in lock.acquire after
  # running `setup` must raise Interrupt there.
  def assert_ctrl_c_interrupts_main(setup)
    # trap: a shell that ran us in the background left SIGINT ignored,
    # and Ruby keeps an ignored SIGINT ignored; give the child Ruby's own
    # handler (Interrupt) whatever it inherited.
    code = <<~RUBY
      trap("INT", "DEFAULT")
      require "weft"
      lock = Weft::Lock.new
      lock.lock
      #{setup}
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

  def test_ctrl_c_interrupts_the_lone_main_thread
    assert_ctrl_c_interrupts_main("")
  end

  def test_ctrl_c_interrupts_main_while_every_thread_waits_in_weft
    assert_ctrl_c_interrupts_main(<<~RUBY)
      event = Weft::Event.new
      t = Thread.new { event.wait }
      Thread.pass until t.status == "sleep"
      at_exit { event.set }
    RUBY
  end

  def test_signal_trap_runs_and_the_wait_goes_on
    code = <<~RUBY
      require "weft"
      event = Weft::Event.new
      trap("USR1") { puts "trapped"; $stdout.flush; event.set }
      puts "ready"; $stdout.flush
      puts event.wait(60) ? "set" : "timeout"
    RUBY
    status, out = ruby_run(code, signal: "USR1", ready: "ready")
    assert status.success?, out
    assert_equal %w[ready trapped set], out.split
  end
end
