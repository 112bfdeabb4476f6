# frozen_string_literal: true

# weft.rb - Ruby's face of weft: Python's threading toolkit as Ruby
# classes, over the SWIG module Weft::Native (bindings/weft.i and
# bindings/ruby/rbweft.c).
#
#   require "weft"
#   lock = Weft::Lock.new
#   t = Weft::Thread.new(2) { |n| lock.synchronize { n * 21 } }
#   t.value   # => 42
#
# Every object wraps a weft handle (#handle).  Handles are process-wide:
# one made here can be used from Python, Lua or C in the same process, and
# `Weft::Lock.wrap(h)` wraps a handle made elsewhere without owning it.
# An object that owns its handle closes it in #close or, failing that,
# when it is garbage collected.
#
# Failures raise Errno::* (weft's -errno statuses) or Weft's own classes
# (BadHandleError, ClosedError < IOError, StateError < ThreadError,
# ValueError < ArgumentError, ResolutionError < SocketError, TimeoutError
# < Errno::ETIMEDOUT, BrokenBarrierError, ...); every one of them is a
# Weft::Error with #code, #detail and weft's message.  Waits that time out
# return false (or nil for #join), as Mutex#try_lock and Thread#join do;
# socket and stream calls that time out raise Weft::TimeoutError.
# Timeouts are seconds: nil waits forever, a negative one is refused.
# Blocking calls release the GVL and stay interruptible (Thread#kill,
# Thread#raise, Ctrl-C).
#
# The socket, select and io modules (Weft::Socket, TCPSocket, ...,
# Weft.select, Weft::Poller, Weft::Stream) are in weft_socket.rb,
# weft_select.rb and weft_io.rb, and the signal module (Weft::Signal) in
# weft_signal.rb, loaded with this file.

require "weft/native"

module Weft
  VERSION = Native.version

  KIND_THREAD = Native::WEFT_KIND_THREAD
  KIND_TIMER = Native::WEFT_KIND_TIMER

  # Statuses of errors the Ruby side raises itself, so #code is set there
  # too.
  ERROR_CODES = {
    BadHandleError => Native::WEFT_EBADHANDLE,
    ClosedError => Native::WEFT_ECLOSED,
    ValueError => Native::WEFT_EVALUE,
    StateError => Native::WEFT_ESTATE
  }.freeze
  private_constant :ERROR_CODES

  # An exception of weft's class `klass` raised by this file.
  def self.error(klass, message)
    e = klass.new(message)
    e.instance_variable_set(:@code, ERROR_CODES.fetch(klass))
    e.instance_variable_set(:@detail, 0)
    e
  end

  # Close a handle that a call made for an object that an interrupt kept
  # from owning it (it may own it already, or not).
  def self.close_unowned(handle)
    Native.close(handle)
  rescue StandardError
    nil # closed already
  end

  # Seconds for weft: nil waits forever (-1); negative and NaN are
  # refused, as Kernel#sleep refuses them.
  def self.timeout_arg(timeout)
    return -1.0 if timeout.nil?
    raise TypeError, "timeout must be a Numeric or nil, not #{timeout.class}" unless timeout.is_a?(Numeric)

    t = timeout.to_f
    raise error(ValueError, "timeout must be >= 0, not #{timeout}") unless t >= 0

    t
  end

  # ---- module functions ------------------------------------------------

  # Seconds on the monotonic clock.
  def self.monotonic
    Native.monotonic
  end

  # Sleep without holding the GVL.
  def self.sleep(seconds)
    Native.sleep(seconds)
    nil
  end

  # The value of a weft constant by name ("WEFT_ECLOSED", "AF_INET",
  # "POLLIN", ...); KeyError if there is none.
  def self.constant(name)
    Native.constant_get(name.is_a?(Symbol) ? name.to_s : name)
  rescue Errno::ENOENT
    raise KeyError.new("no weft constant #{name}", receiver: self, key: name)
  end

  # Every constant, name => value.
  def self.constants_hash
    (0...Native.constant_count).to_h { |i| Native.constant_at(i) }
  end

  def self.current_thread
    thread_for(Native.thread_current)
  end

  def self.main_thread
    thread_for(Native.thread_main)
  end

  # Every alive thread (started threads, pending or running timers, alien
  # threads weft has seen, the main thread).
  def self.list
    Native.thread_enumerate.map { |h| thread_for(h) }
  end

  def self.enumerate
    list
  end

  def self.active_count
    Native.thread_active_count
  end

  # Wait for every non-daemon weft thread (timers included); false if some
  # are still alive when the timeout runs out.  Runs at exit.
  def self.shutdown(timeout = nil)
    Native.thread_shutdown(timeout_arg(timeout))
  end

  def self.stack_size
    Native.thread_get_stack_size
  end

  def self.stack_size=(size)
    Native.thread_set_stack_size(size)
  end

  # The Weft::Thread for a thread handle: the object that started it when
  # there is one, else a wrapper that does not own the handle.
  def self.thread_for(handle)
    THREADS[handle] ||= (Native.handle_kind(handle) == KIND_TIMER ? Timer : Thread).wrap(handle)
  end

  # ---- handles ---------------------------------------------------------

  # What every weft object has: a handle, ownership, #close.
  class Handle
    # The handle, an Integer usable from any language in this process.
    attr_reader :handle

    # Wrap an existing handle of this class's kind.  With own: true the
    # object closes it (in #close or when collected); by default it does
    # not, and #close only detaches the object.
    def self.wrap(handle, own: false)
      obj = allocate
      obj.__send__(:weft_wrap, handle, own)
      obj
    end

    # Closes the handle if this object owns it; waiters wake with
    # Weft::ClosedError.  Later calls through the object raise
    # Weft::BadHandleError.  Closing again does nothing.
    def close
      return nil if @closed

      @closed = true
      if @own
        ObjectSpace.undefine_finalizer(self)
        Native.close(@handle)
      end
      nil
    end

    def closed?
      @closed ? true : false
    end

    def owned_handle?
      @own
    end

    def ==(other)
      other.is_a?(Handle) && other.handle == @handle
    end
    alias eql? ==

    def hash
      @handle.hash
    end

    def inspect
      "#<#{self.class} handle=0x#{@handle.to_s(16)}#{@closed ? ' closed' : ''}>"
    end

    # For a call that failed with Weft::BadHandleError: on an object
    # closed already, Weft::ClosedError (an IOError, as Ruby's "closed
    # stream"); else the error itself.
    def closed_or(error)
      return error unless @closed

      Weft.error(ClosedError, "#{self.class}: closed stream")
    end
    private :closed_or

    # A finalizer that closes `handle` (built here so it holds no
    # reference to the object).
    def self.closer(handle)
      proc do
        Native.close(handle)
      rescue StandardError
        nil # closed already, through another wrapper or language
      end
    end

    private

    def weft_own(handle)
      @handle = handle
      @own = true
      @closed = false
      ObjectSpace.define_finalizer(self, Handle.closer(handle))
    end

    def weft_wrap(handle, own)
      kind = Native.handle_kind(handle)
      unless self.class::KINDS.include?(kind)
        raise Weft.error(BadHandleError,
                         "handle 0x#{handle.to_s(16)} is of kind #{kind}, not a #{self.class}")
      end
      if own
        weft_own(handle)
      else
        @handle = handle
        @own = false
        @closed = false
      end
    end
  end

  # ---- threads ---------------------------------------------------------

  # handle => the Weft::Thread made for it, while that object lives.
  THREADS = ObjectSpace::WeakMap.new
  private_constant :THREADS

  # A weft thread whose target runs on a Ruby Thread: weft adopts the Ruby
  # Thread, so Weft.current_thread there is this object, joins from any
  # language wait for it, and an exception in the target is reported as
  # Ruby reports one that ends a Thread (the weft result is then 1).
  #
  #   t = Weft::Thread.new(1, 2, name: "adder") { |a, b| a + b }
  #   t.join(5)   # => t, or nil if still running after 5 s
  #   t.value     # => 3
  #
  # Like ::Thread, new starts the thread; pass start: false to start it
  # later.  Subclasses may override #run instead of giving a block.
  class Thread < Handle
    KINDS = [KIND_THREAD, KIND_TIMER].freeze

    def initialize(*args, name: nil, daemon: nil, start: true, &block)
      @block = block
      @args = args
      weft_own(Native.thread_new(name&.to_s))
      self.daemon = daemon unless daemon.nil?
      THREADS[@handle] = self
      self.start if start
    end

    # What the thread does; calls the block with the arguments.
    def run
      @block&.call(*@args)
    end

    # Start the thread; returns once it is alive.  Weft::StateError if it
    # was started before.
    def start
      raise Weft.error(StateError, "threads can only be started once") if @ruby_thread

      ready = ::Thread::Queue.new
      entered = false
      target = lambda do
        entered = true
        ready << true
        begin
          @value = run
        rescue Exception => e # rubocop:disable Lint/RescueException
          @exception = e
          raise
        end
      end
      name = self.name
      @ruby_thread = ::Thread.new do
        ::Thread.current.name = name
        Native.thread_adopt(@handle, target)
      rescue Exception => e # rubocop:disable Lint/RescueException
        raise if entered # the target's own: Ruby reports it

        failure = e # weft refused to adopt
      ensure
        ready << (failure || Weft.error(StateError, "the thread was killed before it started")) unless entered
      end
      started = ready.pop
      raise started if started.is_a?(Exception)

      self
    end

    # Wait until the thread finishes, at most `timeout` seconds (nil:
    # forever).  self, or nil on timeout, as ::Thread#join.
    def join(timeout = nil)
      Native.thread_join(@handle, Weft.timeout_arg(timeout)) ? self : nil
    end

    # The target's value once it has finished (joining first); raises what
    # the target raised.  For a thread made elsewhere: its weft result.
    def value
      join
      raise @exception if @exception
      return @value if @ruby_thread

      result
    end

    # The weft result: 0, or 1 if the target raised.  Weft::StateError
    # until the thread has finished.
    def result
      Native.thread_get_result(@handle)
    end

    def alive?
      Native.thread_is_alive(@handle)
    end

    def started?
      !ident.nil? || alive?
    end

    def name
      Native.thread_get_name(@handle)
    end

    def name=(name)
      Native.thread_set_name(@handle, name.to_s)
      @ruby_thread.name = name.to_s if @ruby_thread&.alive?
    end

    def daemon?
      Native.thread_get_daemon(@handle)
    end

    # Weft::StateError once started.
    def daemon=(flag)
      Native.thread_set_daemon(@handle, flag)
    end

    # The identifier (Weft::Native.thread_current_ident in the thread), or
    # nil before it starts.
    def ident
      id = Native.thread_get_ident(@handle)
      id.zero? ? nil : id
    end

    def native_id
      id = Native.thread_get_native_id(@handle)
      id.zero? ? nil : id
    end

    # The ::Thread this thread runs on (nil for threads made elsewhere).
    attr_reader :ruby_thread

    def inspect
      return super if @closed

      state = alive? ? "started" : (started? ? "stopped" : "initial")
      daemon = daemon? ? " daemon" : ""
      "#<#{self.class} #{name.inspect} #{state}#{daemon} handle=0x#{@handle.to_s(16)}>"
    rescue Weft::Error
      super
    end
    alias to_s inspect
  end

  # A thread whose block runs once, `interval` seconds after it starts,
  # unless cancelled first (Python's threading.Timer).  Pending timers
  # share one weft service thread; the block runs on a Ruby thread of the
  # binding (weft's dispatcher), so keep it short.
  #
  #   t = Weft::Timer.new(0.5) { puts "later" }
  #   t.cancel
  class Timer < Thread
    def initialize(interval, *args, name: nil, daemon: nil, start: true, &block)
      raise ArgumentError, "Weft::Timer needs a block" unless block

      @box = [] # [value] or [nil, exception], written by the callback
      @callback = Native.callback_register(Timer.callback(block, args, @box))
      begin
        weft_own(Native.timer_new(interval, @callback, name&.to_s))
      rescue StandardError
        Native.callback_forget(@callback)
        raise
      end
      ObjectSpace.undefine_finalizer(self)
      ObjectSpace.define_finalizer(self, Timer.closer(@handle, @callback))
      self.daemon = daemon unless daemon.nil?
      THREADS[@handle] = self
      self.start if start
    end

    # The callback: built here so it holds no reference to the Timer (an
    # unstarted or finished one may be collected).
    def self.callback(block, args, box)
      lambda do
        box[0] = block.call(*args)
      rescue Exception => e # rubocop:disable Lint/RescueException
        box[1] = e
        raise
      end
    end

    # Closes the handle, and forgets the callback unless the timer is
    # still pending (it then runs, and forgets it itself).
    def self.closer(handle, callback)
      proc do
        pending = begin
          Native.thread_is_alive(handle)
        rescue StandardError
          false
        end
        begin
          Native.close(handle)
        rescue StandardError
          nil
        end
        Native.callback_forget(callback) unless pending
      end
    end

    def start
      Native.thread_start(@handle)
      self
    end

    def run
      raise NotImplementedError, "a Weft::Timer runs its block"
    end

    # Stop the timer if its block has not started; joins then return at
    # once.  Does nothing to a running or finished timer.
    def cancel
      Native.timer_cancel(@handle)
      Native.callback_forget(@callback) if @callback && !alive?
      nil
    end

    def close
      return nil if @closed

      if @own && @callback
        ObjectSpace.undefine_finalizer(self)
        @own = false
        Timer.closer(@handle, @callback).call
      end
      super
    end

    def value
      join
      return result unless @box

      raise @box[1] if @box[1]

      @box[0]
    end

    def ruby_thread
      nil
    end

    private

    def weft_wrap(handle, own)
      super
      @callback = nil
    end
  end

  # ---- locks -----------------------------------------------------------

  # Lock, RLock and Condition share their locking methods, over
  # Native.<prefix>_acquire / _release.  Generated as plain methods: a
  # Lock acquire is a few tens of nanoseconds, and define_method or send
  # would add as much again.
  def self.lock_methods(klass, prefix)
    klass.class_eval <<~RUBY, __FILE__, __LINE__ + 1
      # true once acquired; false if `timeout` seconds ran out (nil: wait
      # as long as it takes).
      def acquire(timeout = nil)
        Native.#{prefix}_acquire(@handle, timeout.nil? ? -1.0 : Weft.timeout_arg(timeout))
      end

      def lock
        Native.#{prefix}_acquire(@handle, -1.0)
        self
      end

      def try_lock
        Native.#{prefix}_acquire(@handle, 0.0)
      end

      # Weft::StateError if it is not held (by this thread, for an RLock).
      def release
        Native.#{prefix}_release(@handle)
      end

      def unlock
        Native.#{prefix}_release(@handle)
        self
      end

      # Acquire, yield, release (also when the block raises); the block's
      # value.
      def synchronize(&block)
        Native.synchronize(@handle, &block)
      end
    RUBY
  end
  private_class_method :lock_methods

  # A primitive lock (Python's threading.Lock): any thread may release it.
  #
  #   lock.synchronize { ... }
  #   lock.acquire(0.5) or warn "busy"
  class Lock < Handle
    KINDS = [Native::WEFT_KIND_LOCK].freeze

    def initialize
      weft_own(Native.lock_new)
    end

    def locked?
      Native.lock_locked(@handle)
    end
  end
  lock_methods(Lock, "lock")

  # A reentrant lock: the thread that holds it may acquire it again, and
  # must release it as many times.
  class RLock < Handle
    KINDS = [Native::WEFT_KIND_RLOCK].freeze

    def initialize
      weft_own(Native.rlock_new)
    end

    # Whether the calling thread holds it.
    def owned?
      Native.rlock_is_owned(@handle)
    end
  end
  lock_methods(RLock, "rlock")

  # A condition variable over a Lock or RLock (a new RLock by default).
  #
  #   cond.synchronize do
  #     cond.wait_until(5) { queue.any? }
  #   end
  class Condition < Handle
    KINDS = [Native::WEFT_KIND_CONDITION].freeze

    # The lock given to new (nil for a condition's own or a wrapped one).
    attr_reader :underlying_lock

    def initialize(lock = nil)
      if lock && !(lock.is_a?(Lock) || lock.is_a?(RLock))
        raise TypeError, "a Weft::Condition needs a Weft::Lock or Weft::RLock, not #{lock.class}"
      end

      @underlying_lock = lock # kept: its finalizer would close the lock
      weft_own(Native.condition_new(lock ? lock.handle : 0))
    end

    # Release the lock, wait for a signal or the timeout, re-acquire the
    # lock.  true if signalled, false on timeout.  Called as wait(timeout)
    # or, like ConditionVariable#wait, wait(lock, timeout), where lock must
    # be the condition's own.  Weft::StateError unless the lock is held.
    def wait(*args)
      raise ArgumentError, "wrong number of arguments (given #{args.size}, expected 0..2)" if args.size > 2

      if args.first.is_a?(Handle)
        lock = args.shift
        if @underlying_lock.nil? || lock.handle != @underlying_lock.handle
          raise Weft.error(ValueError, "#{lock.inspect} is not this condition's lock")
        end
      end
      raise ArgumentError, "wrong number of arguments" if args.size > 1

      Native.condition_wait(@handle, Weft.timeout_arg(args.first))
    end

    # Wait until the block returns a true value, at most `timeout` seconds
    # in all; returns the block's last value (Python's wait_for).
    def wait_until(timeout = nil)
      deadline = timeout && Weft.monotonic + Weft.timeout_arg(timeout)
      until (result = yield)
        left = deadline && deadline - Weft.monotonic
        break if left && left <= 0

        wait(left)
      end
      result
    end

    # Wake up to n waiters.  Weft::StateError unless the lock is held.
    def signal(n = 1)
      Native.condition_notify(@handle, n)
      self
    end

    def broadcast
      Native.condition_notify_all(@handle)
      self
    end

    alias notify signal
    alias notify_all broadcast
  end
  lock_methods(Condition, "condition")

  # A counting semaphore.
  class Semaphore < Handle
    KINDS = [Native::WEFT_KIND_SEMAPHORE].freeze

    def initialize(value = 1)
      weft_own(new_handle(value))
    end

    def acquire(timeout = nil)
      Native.semaphore_acquire(@handle, timeout.nil? ? -1.0 : Weft.timeout_arg(timeout))
    end

    def try_acquire
      Native.semaphore_acquire(@handle, 0.0)
    end

    # Weft::ValueError past a BoundedSemaphore's initial value.
    def release(n = 1)
      Native.semaphore_release(@handle, n)
      nil
    end

    def value
      Native.semaphore_get_value(@handle)
    end

    def synchronize(&block)
      Native.synchronize(@handle, &block)
    end

    private

    def new_handle(value)
      Native.semaphore_new(value)
    end
  end

  # A semaphore whose value may not be released above its initial value.
  class BoundedSemaphore < Semaphore
    private

    def new_handle(value)
      Native.bounded_semaphore_new(value)
    end
  end

  # A flag threads can wait for.
  class Event < Handle
    KINDS = [Native::WEFT_KIND_EVENT].freeze

    def initialize
      weft_own(Native.event_new)
    end

    def set
      Native.event_set(@handle)
      self
    end

    def clear
      Native.event_clear(@handle)
      self
    end

    def set?
      Native.event_is_set(@handle)
    end

    # true once the flag is set, false if the timeout ran out first.
    def wait(timeout = nil)
      Native.event_wait(@handle, Weft.timeout_arg(timeout))
    end
  end

  # A barrier for a fixed number of threads (Python's threading.Barrier).
  # The optional block runs once per cycle, in one of the threads, before
  # they are released; if it raises, that thread gets its exception and
  # the others Weft::BrokenBarrierError.
  class Barrier < Handle
    KINDS = [Native::WEFT_KIND_BARRIER].freeze

    def initialize(parties, timeout: nil, &action)
      @action = action && Native.callback_register(action)
      begin
        weft_own(Native.barrier_new(parties, @action, Weft.timeout_arg(timeout)))
      rescue StandardError
        Native.callback_forget(@action) if @action
        raise
      end
      return unless @action

      ObjectSpace.undefine_finalizer(self)
      ObjectSpace.define_finalizer(self, Barrier.closer(@handle, @action))
    end

    def self.closer(handle, action)
      close = Handle.closer(handle)
      proc do
        close.call
        Native.callback_forget(action) if action
      end
    end

    # Wait for the other parties; returns this thread's index in the cycle
    # (0 ... parties).  timeout nil uses the barrier's default.
    def wait(timeout = nil)
      return Native.barrier_wait_default(@handle) if timeout.nil?

      Native.barrier_wait(@handle, Weft.timeout_arg(timeout))
    end

    def reset
      Native.barrier_reset(@handle)
      self
    end

    def abort
      Native.barrier_abort(@handle)
      self
    end

    def parties
      Native.barrier_get_parties(@handle)
    end

    def n_waiting
      Native.barrier_get_n_waiting(@handle)
    end

    def broken?
      Native.barrier_is_broken(@handle)
    end

    def close
      return nil if @closed

      if @own && @action
        ObjectSpace.undefine_finalizer(self)
        @own = false
        @closed = true
        Barrier.closer(@handle, @action).call
        return nil
      end
      super
    end
  end

  # Python's exit rule: the process waits for its non-daemon threads.
  at_exit { Weft.shutdown }
end

require_relative "weft_io"
require_relative "weft_socket"
require_relative "weft_select"
require_relative "weft_signal"
require_relative "weft_ffi"
