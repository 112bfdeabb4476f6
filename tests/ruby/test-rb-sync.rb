# frozen_string_literal: true

# Lock, RLock, Condition, Semaphore, Event, Barrier: behaviour with real
# threads (weft threads and plain Ruby threads) and contention.
require_relative "helper"

class TestLock < WeftTestCase
  def test_counter_under_contention_is_exact
    lock = Weft::Lock.new
    count = 0
    threads = Array.new(4) do
      Weft::Thread.new { 500.times { lock.synchronize { count += 1 } } }
    end
    rubies = Array.new(2) do
      ::Thread.new { 500.times { lock.lock; count += 1; lock.unlock } }
    end
    threads.each { |t| assert_same t, t.join }
    rubies.each(&:join)
    assert_equal 3000, count
    refute lock.locked?
  end

  def test_try_lock_and_timeout_while_held_elsewhere
    lock = Weft::Lock.new
    holding = Weft::Event.new
    done = Weft::Event.new
    t = Weft::Thread.new do
      lock.lock
      holding.set
      done.wait
      lock.unlock
    end
    holding.wait
    assert lock.locked?
    refute lock.try_lock
    refute lock.acquire(0.01)
    done.set
    assert lock.acquire(10)
    t.join
    lock.release
  end

  def test_any_thread_may_release
    lock = Weft::Lock.new
    lock.lock
    Weft::Thread.new { lock.release }.join
    refute lock.locked?
  end

  def test_synchronize_returns_the_value_and_releases_on_exception
    lock = Weft::Lock.new
    assert_equal 42, lock.synchronize { 42 }
    assert_raises(ZeroDivisionError) { lock.synchronize { 1 / 0 } }
    refute lock.locked?
    assert_raises(LocalJumpError) { lock.synchronize }
  end

  def test_closing_wakes_waiters_with_closed_error
    lock = Weft::Lock.new
    lock.lock
    waiter = ::Thread.new do
      lock.acquire
    rescue Weft::Error => e
      e
    end
    wait_blocked(waiter)
    Weft::Native.close(lock.handle)
    e = waiter.value
    assert_kind_of Weft::ClosedError, e
    assert_equal Weft::Native::WEFT_ECLOSED, e.code
  end
end

class TestRLock < WeftTestCase
  def test_reentrant_and_owned
    r = Weft::RLock.new
    refute r.owned?
    r.lock
    assert r.acquire(0)
    assert r.owned?
    r.release
    assert r.owned?
    r.unlock
    refute r.owned?
  end

  def test_other_thread_cannot_take_or_release_it
    r = Weft::RLock.new
    r.lock
    results = Weft::Thread.new do
      got = r.try_lock
      begin
        r.release
        [got, :released]
      rescue Weft::StateError => e
        [got, e.class]
      end
    end.value
    assert_equal [false, Weft::StateError], results
    r.synchronize { assert r.owned? }
    r.unlock
  end
end

class TestCondition < WeftTestCase
  def test_producer_consumer
    cond = Weft::Condition.new(Weft::Lock.new)
    queue = []
    consumer = Weft::Thread.new do
      got = []
      cond.synchronize do
        while got.size < 50
          cond.wait_until { queue.any? }
          got << queue.shift
        end
      end
      got
    end
    50.times do |i|
      cond.synchronize do
        queue << i
        cond.signal
      end
    end
    assert_equal (0...50).to_a, consumer.value
  end

  def test_wait_times_out_with_false_and_holds_the_lock_again
    lock = Weft::RLock.new
    cond = Weft::Condition.new(lock)
    cond.synchronize do
      refute cond.wait(0.01)
      assert lock.owned?
      refute cond.wait(lock, 0)
      refute cond.wait_until(0.01) { false }
    end
  end

  def test_wait_with_another_lock_is_refused
    cond = Weft::Condition.new(Weft::Lock.new)
    cond.synchronize do
      assert_raises(Weft::ValueError) { cond.wait(Weft::Lock.new, 0) }
    end
  end

  def test_signal_and_wait_need_the_lock
    cond = Weft::Condition.new
    assert_raises(Weft::StateError) { cond.signal }
    assert_raises(Weft::StateError) { cond.broadcast }
    assert_raises(Weft::StateError) { cond.wait(0) }
  end

  def test_broadcast_wakes_every_waiter
    cond = Weft::Condition.new
    ready = 0
    go = false
    waiters = Array.new(3) do
      Weft::Thread.new do
        cond.synchronize do
          ready += 1
          cond.broadcast
          cond.wait_until { go }
        end
      end
    end
    cond.synchronize do
      cond.wait_until(30) { ready == 3 }
      go = true
      cond.broadcast
    end
    waiters.each { |t| assert t.join(30) }
  end
end

class TestSemaphore < WeftTestCase
  def test_bounds_concurrency
    sem = Weft::Semaphore.new(2)
    lock = Weft::Lock.new
    inside = 0
    most = 0
    threads = Array.new(5) do
      Weft::Thread.new do
        20.times do
          sem.synchronize do
            lock.synchronize { inside += 1; most = [most, inside].max }
            Thread.pass
            lock.synchronize { inside -= 1 }
          end
        end
      end
    end
    threads.each(&:join)
    assert_operator most, :<=, 2
    assert_equal 2, sem.value
  end

  def test_acquire_release_value
    sem = Weft::Semaphore.new(0)
    refute sem.try_acquire
    refute sem.acquire(0.01)
    sem.release(3)
    assert_equal 3, sem.value
    assert sem.acquire
    assert_equal 2, sem.value
  end

  def test_bounded_semaphore_refuses_release_above_initial
    sem = Weft::BoundedSemaphore.new(1)
    assert_raises(Weft::ValueError) { sem.release }
    assert sem.acquire
    sem.release
    assert_equal 1, sem.value
    assert_kind_of Weft::Semaphore, sem
  end
end

class TestEvent < WeftTestCase
  def test_set_wakes_waiters
    event = Weft::Event.new
    waiters = Array.new(3) { Weft::Thread.new { event.wait(30) } }
    refute event.set?
    event.set
    assert event.set?
    assert_equal [true, true, true], waiters.map(&:value)
    event.clear
    refute event.wait(0)
    refute event.wait(0.01)
  end
end

class TestBarrier < WeftTestCase
  def test_parties_meet_with_unique_indices_and_one_action_per_cycle
    actions = 0
    barrier = Weft::Barrier.new(3) { actions += 1 }
    assert_equal 3, barrier.parties
    threads = Array.new(3) { Weft::Thread.new { [barrier.wait, barrier.wait] } }
    firsts, seconds = threads.map(&:value).transpose
    assert_equal [0, 1, 2], firsts.sort
    assert_equal [0, 1, 2], seconds.sort
    assert_equal 2, actions
    refute barrier.broken?
    assert_equal 0, barrier.n_waiting
  end

  def test_abort_breaks_waiters_and_reset_repairs
    barrier = Weft::Barrier.new(2)
    waiter = ::Thread.new do
      barrier.wait
    rescue Weft::Error => e
      e
    end
    wait_until("a waiter") { barrier.n_waiting == 1 }
    barrier.abort
    assert_kind_of Weft::BrokenBarrierError, waiter.value
    assert barrier.broken?
    assert_raises(Weft::BrokenBarrierError) { barrier.wait(0) }
    barrier.reset
    refute barrier.broken?
  end

  def test_timeout_breaks_the_barrier
    barrier = Weft::Barrier.new(2, timeout: 0.01)
    e = assert_raises(Weft::BrokenBarrierError) { barrier.wait }
    assert_equal Errno::ETIMEDOUT::Errno, e.detail
    assert barrier.broken?
  end

  def test_failing_action_raises_in_its_thread_and_breaks_the_others
    barrier = Weft::Barrier.new(2) { raise IOError, "action failed" }
    other = Weft::Thread.new do
      barrier.wait
    rescue Exception => e # rubocop:disable Lint/RescueException
      e
    end
    wait_until("the other party") { barrier.n_waiting == 1 }
    e = assert_raises(IOError) { barrier.wait } # we arrive last: we run it
    assert_equal "action failed", e.message
    assert_kind_of Weft::BrokenBarrierError, other.value
  end
end
