# frozen_string_literal: true

# Callbacks reach Ruby only on Ruby threads: timer functions through the
# binding's dispatcher thread, barrier actions on the waiting Ruby thread
# or through the dispatcher; the GC never frees a callback C still holds.
require_relative "helper"

class TestCallbacks < WeftTestCase
  N = Weft::Native

  def test_timer_fires_into_ruby_on_the_dispatcher_thread
    t = Weft::Timer.new(0.01, 1, 2) { |a, b| [a + b, ::Thread.current.name] }
    assert_same t, t.join(30)
    assert_equal [3, "weft-dispatcher"], t.value
    assert_equal 0, t.result
    assert_equal N::WEFT_KIND_DISPATCHER, N.handle_kind(N.dispatcher)
  end

  def test_cancelled_timer_never_fires_and_forgets_its_callback
    before = N.callback_count
    fired = false
    t = Weft::Timer.new(3600) { fired = true }
    assert t.alive? # pending
    assert_equal before + 1, N.callback_count
    t.cancel
    assert t.join(30)
    refute fired
    assert_equal N::WEFT_ECLOSED, t.result
    assert_equal before, N.callback_count
  end

  def test_fired_timer_forgets_its_callback
    before = N.callback_count
    Weft::Timer.new(0) { :done }.join
    assert_equal before, N.callback_count
  end

  def test_closing_an_unstarted_timer_forgets_its_callback
    before = N.callback_count
    t = Weft::Timer.new(1, start: false) { flunk "ran" }
    assert_equal before + 1, N.callback_count
    t.close
    assert_equal before, N.callback_count
  end

  def test_timer_exception_is_reported_and_result_is_nonzero
    err = capture_stderr do
      t = Weft::Timer.new(0) { raise IOError, "timer failed" }
      t.join
      assert_equal 1, t.result
      assert_raises(IOError) { t.value }
    end
    assert_match(/timer function terminated with exception/, err)
    assert_includes err, "timer failed"
  end

  def test_timer_block_may_use_weft_and_block
    lock = Weft::Lock.new
    lock.lock
    t = Weft::Timer.new(0) { lock.acquire(30) && :got_it }
    wait_until("the timer to block") { t.alive? && !lock.try_lock }
    lock.unlock
    assert_equal :got_it, t.value
  end

  def test_barrier_action_runs_on_the_ruby_thread_that_arrives_last
    ran_on = nil
    barrier = Weft::Barrier.new(2) { ran_on = ::Thread.current }
    foreign = Weft::Thread.wrap(N.foreign_barrier_wait(barrier.handle), own: true)
    wait_until("the foreign party") { barrier.n_waiting == 1 }
    assert_equal 1, barrier.wait(30) # last: runs the action, without the GVL first
    assert foreign.join(30)
    assert_equal 0, foreign.result
    assert_same ::Thread.current, ran_on
  end

  def test_barrier_action_when_the_foreign_thread_arrives_last
    ran_on = nil
    barrier = Weft::Barrier.new(2) { ran_on = ::Thread.current.name }
    waiter = ::Thread.new { barrier.wait(30) }
    wait_until("the Ruby party") { barrier.n_waiting == 1 }
    foreign = Weft::Thread.wrap(N.foreign_barrier_wait(barrier.handle), own: true)
    assert foreign.join(30)
    assert_equal 1, foreign.result # the last to arrive: it ran the action
    assert_equal "weft-dispatcher", ran_on
    assert_equal 0, waiter.value
  end

  def test_failing_action_on_a_foreign_thread_breaks_the_barrier
    barrier = Weft::Barrier.new(2) { raise "action failed" }
    waiter = ::Thread.new do
      barrier.wait(30)
    rescue Weft::Error => e
      e
    end
    wait_until("the Ruby party") { barrier.n_waiting == 1 }
    err = capture_stderr do
      foreign = Weft::Thread.wrap(N.foreign_barrier_wait(barrier.handle), own: true)
      assert foreign.join(30)
      assert_equal N::WEFT_EBROKEN, foreign.result
    end
    assert_kind_of Weft::BrokenBarrierError, waiter.value
    assert_includes err, "action failed"
  end

  def test_closing_a_barrier_forgets_its_action
    before = N.callback_count
    b = Weft::Barrier.new(2) { nil }
    assert_equal before + 1, N.callback_count
    b.close
    assert_equal before, N.callback_count
  end

  def test_gc_does_not_free_pending_callbacks
    results = Weft::Lock.new
    fired = []
    timers = Array.new(20) do |i|
      # Nothing but weft's callback table refers to the block's closure.
      Weft::Timer.new(0.001 * i) { results.synchronize { fired << "timer #{i}".dup } }
    end
    8.times { GC.start(full_mark: true, immediate_sweep: true) }
    timers.each { |t| assert t.join(30) }
    assert_equal (0...20).map { |i| "timer #{i}" }.sort, fired.sort
  end

  def test_gc_stress_with_threads_timers_and_actions
    GC.stress = true
    barrier = Weft::Barrier.new(2) { "action".dup }
    t = Weft::Thread.new { Array.new(3) { |i| "s#{i}" }.join(",") + barrier.wait(30).to_s }
    timer = Weft::Timer.new(0) { "timer".dup * 2 }
    barrier.wait(30)
    values = [t.value, timer.value]
    GC.stress = false
    assert_match(/\As0,s1,s2[01]\z/, values[0])
    assert_equal "timertimer", values[1]
  ensure
    GC.stress = false
  end

  def test_dropped_objects_are_collected_without_crashing
    20.times do
      Weft::Thread.new { :x }.join
      Weft::Lock.new.lock
      Weft::Timer.new(3600) { nil }.cancel
      Weft::Event.new.set
      Weft::Barrier.new(1) { nil }.wait
    end
    GC.start(full_mark: true, immediate_sweep: true)
    assert_equal 0, Weft::Thread.new { 0 }.value
  end
end
