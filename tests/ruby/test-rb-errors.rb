# frozen_string_literal: true

# Errors: every negative weft status becomes a native exception (Errno::*
# or a Weft class) carrying weft's message and code; bad input of every
# sort gives a clean exception, never a crash.
require_relative "helper"

class TestErrors < WeftTestCase
  N = Weft::Native

  def test_errno_status_raises_the_matching_errno_class
    e = assert_raises(Errno::ENOENT) { N.constant_get("NO_SUCH_CONSTANT") }
    assert_kind_of Weft::Error, e
    assert_equal(-Errno::ENOENT::Errno, e.code)
    assert_equal "ENOENT", e.weft_name
    assert_includes e.message, "NO_SUCH_CONSTANT"
    assert_includes e.message, N.last_error_message
  end

  def test_weft_codes_raise_weft_classes_with_message_and_code
    lock = Weft::Lock.new
    e = assert_raises(Weft::StateError) { lock.release }
    assert_equal N::WEFT_ESTATE, e.code
    assert_equal "WEFT_ESTATE", e.weft_name
    assert_equal N.last_error_message, e.message
    assert_match(/unlocked/, e.message)
  end

  def test_class_hierarchy_is_ruby_native
    assert_operator Weft::ValueError, :<, ArgumentError
    assert_operator Weft::StateError, :<, ThreadError
    assert_operator Weft::RangeError, :<, ::RangeError
    assert_operator Weft::BrokenBarrierError, :<, RuntimeError
    [Weft::BadHandleError, Weft::ClosedError, Weft::StateError, Weft::ValueError,
     Weft::BrokenBarrierError, Weft::UnknownError].each do |klass|
      assert_operator klass, :<, Weft::Error
      assert_operator klass, :<, StandardError
    end
  end

  def test_rescue_weft_error_catches_errno_and_weft_classes
    [-> { N.constant_get("NOPE") }, -> { Weft::Lock.new.release },
     -> { Weft::Semaphore.new(-1) }].each do |failing|
      begin
        failing.call
        flunk "no exception"
      rescue Weft::Error => e
        assert_kind_of Integer, e.code
        assert_operator e.code, :<, 0
      end
    end
  end

  def test_closed_handle_is_bad_handle_error
    lock = Weft::Lock.new
    h = lock.handle
    lock.close
    e = assert_raises(Weft::BadHandleError) { N.lock_acquire(h, 0) }
    assert_equal N::WEFT_EBADHANDLE, e.code
    assert_raises(Weft::BadHandleError) { lock.acquire }
    assert_nil lock.close # closing the object again does nothing
    assert_raises(Weft::BadHandleError) { N.close(h) } # the handle twice: an error
  end

  def test_never_issued_and_zero_handles
    assert_raises(Weft::BadHandleError) { N.event_set(0) }
    assert_raises(Weft::BadHandleError) { N.event_set(123_456_789) }
    assert_raises(Weft::BadHandleError) { N.event_set(-5) }
  end

  def test_wrong_kind_of_handle
    lock = Weft::Lock.new
    assert_raises(Weft::BadHandleError) { N.event_set(lock.handle) }
    assert_raises(Weft::BadHandleError) { Weft::Event.wrap(lock.handle) }
    assert_raises(Weft::BadHandleError) { N.synchronize(Weft::Event.new.handle) { flunk } }
    assert lock.try_lock # untouched by the refused calls
  end

  def test_wrong_argument_types
    lock = Weft::Lock.new
    assert_raises(TypeError) { N.lock_acquire("1", 0) }
    assert_raises(TypeError) { N.lock_acquire(nil, 0) }
    assert_raises(TypeError) { N.lock_acquire(lock.handle.to_f, 0) }
    assert_raises(TypeError) { N.lock_acquire(lock.handle, "0") }
    assert_raises(TypeError) { N.lock_acquire(lock.handle, nil) }
    assert_raises(::RangeError) { N.lock_acquire(2**70, 0) }
    assert_raises(ArgumentError) { N.lock_acquire(lock.handle) }
    assert_raises(TypeError) { lock.acquire("soon") }
    assert_raises(TypeError) { Weft.constant(42) }
    assert_raises(TypeError) { Weft::Condition.new(Weft::Event.new) }
    assert_raises(TypeError) { Weft::Timer.new("1") { nil } }
    assert_raises(TypeError) { N.callback_register(42) }
    assert_raises(TypeError) { N.thread_adopt(N.thread_new(nil), :not_callable) }
  end

  def test_strings_with_nul_bytes_are_refused
    t = Weft::Thread.new(start: false) { nil }
    assert_raises(ArgumentError) { t.name = "a\0b" }
    assert_raises(ArgumentError) { Weft.constant("WEFT_OK\0") }
  end

  def test_negative_and_nan_timeouts_are_refused
    lock = Weft::Lock.new
    event = Weft::Event.new
    [-1, -0.5, Float::NAN].each do |t|
      assert_raises(Weft::ValueError) { lock.acquire(t) }
      assert_raises(Weft::ValueError) { event.wait(t) }
      assert_raises(Weft::ValueError) { Weft::Thread.new(start: false).join(t) }
    end
    e = assert_raises(Weft::ValueError) { Weft.sleep(-1) }
    assert_equal N::WEFT_EVALUE, e.code
    assert_raises(Weft::ValueError) { N.lock_acquire(lock.handle, Float::NAN) }
    assert lock.try_lock
  end

  def test_out_of_range_values
    assert_raises(Weft::ValueError) { Weft::Semaphore.new(-1) }
    assert_raises(Weft::ValueError) { Weft::Barrier.new(0) }
    before = N.callback_count
    assert_raises(Weft::ValueError) { Weft::Timer.new(-1) { nil } }
    assert_equal before, N.callback_count # a refused timer leaves no callback
    assert_raises(Weft::ValueError) { Weft::Semaphore.new(1).release(0) }
    assert_raises(::RangeError) { N.condition_notify(Weft::Condition.new.handle, -1) }
    assert_raises(Weft::ValueError) { Weft.stack_size = 100 }
  end

  def test_constants_by_name
    assert_equal N::WEFT_ECLOSED, Weft.constant("WEFT_ECLOSED")
    assert_equal N::WEFT_KIND_LOCK, Weft.constant(:WEFT_KIND_LOCK.to_s)
    e = assert_raises(KeyError) { Weft.constant("NO_SUCH") }
    assert_equal "NO_SUCH", e.key
    all = Weft.constants_hash
    assert_equal N.constant_count, all.size
    assert_equal N::WEFT_EBROKEN, all.fetch("WEFT_EBROKEN")
  end

  def test_wrapping_without_owning_leaves_the_handle_open
    lock = Weft::Lock.new
    borrowed = Weft::Lock.wrap(lock.handle)
    refute borrowed.owned_handle?
    borrowed.close
    assert borrowed.closed?
    assert lock.try_lock # still open
    owner = Weft::Lock.wrap(Weft::Native.lock_new, own: true)
    h = owner.handle
    owner.close
    assert_raises(Weft::BadHandleError) { N.lock_locked(h) }
    assert_equal lock, Weft::Lock.wrap(lock.handle)
  end
end
