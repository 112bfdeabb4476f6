# frozen_string_literal: true

# weft_select.rb - weft's select module: Weft.select, shaped like
# IO.select, and Weft::Poller, an epoll-style set of registrations
# (loaded by `require "weft"`).
#
#   readable, writable, = Weft.select([server, stop_event], [client], nil, 5)
#
#   poller = Weft::Poller.new
#   poller.register(sock, :in, :client)    # key: any object
#   poller.register(event, :in)            # an Event is readable while set
#   poller.register($stdin, :in, :tty)     # a Ruby IO: its descriptor
#   poller.wait(1)                         # => [[:client, Weft::Poller::IN], ...]
#
# Both take Weft sockets and Weft::Events (an Event is readable while it
# is set, so a thread can wait for data and for a stop signal in one
# call); a Poller also takes raw descriptors (Integers, Ruby IOs).  Both
# waits release the GVL and stay interruptible.  A Weft::Stream cannot be
# selected (its buffer may hold what select would wait for): select its
# socket.
module Weft
  # IO.select for weft: arrays of Weft sockets and Events; [[readable],
  # [writable], [exceptional]] (each in the order given), or nil when
  # timeout (seconds; nil: forever) ran out first.  Without the FD_SETSIZE
  # limit.  A socket holding bytes a failed gets took (#pending?) is
  # readable at once: recv returns them.
  def self.select(readers, writers = nil, errors = nil, timeout = nil)
    lists = [readers, writers, errors].map { |l| l.nil? ? [] : l.to_ary }
    maps = lists.map { |l| l.each_with_object({}) { |o, m| m[select_handle(o)] ||= o } }
    timeout = timeout_arg(timeout)
    kept = maps[0].values.select { |o| o.is_a?(BasicSocket) && o.pending? }
    ready = Native.select_wait(*maps.map(&:keys), kept.empty? ? timeout : 0.0)
    return nil if ready.nil? && kept.empty?

    out = (ready || [[], [], []]).each_with_index.map { |hs, i| hs.map { |h| maps[i][h] } }
    out[0] = maps[0].values.select { |o| kept.include?(o) || out[0].include?(o) } unless kept.empty?
    out
  end

  def self.select_handle(obj)
    if obj.is_a?(Stream)
      raise TypeError, "a Weft::Stream buffers, so select cannot see what it holds: select its socket"
    end
    return obj.handle if obj.is_a?(Handle)

    raise TypeError, "Weft.select takes Weft sockets and Weft::Events, not #{obj.class}"
  end
  private_class_method :select_handle

  # A set of registrations waited on together (epoll on Linux, poll(2)
  # elsewhere or with backend: :poll).  Any number of threads may wait on
  # one poller; closing it wakes them with Weft::ClosedError.
  class Poller < Handle
    KINDS = [Native::WEFT_KIND_POLLER].freeze
    N = Native
    private_constant :N

    # Readiness bits, the platform's (as the wait reports them).
    IN = Native.constant_get("POLLIN")
    PRI = Native.constant_get("POLLPRI")
    OUT = Native.constant_get("POLLOUT")
    ERR = Native.constant_get("POLLERR")
    HUP = Native.constant_get("POLLHUP")
    RDHUP = Native.constant_get("POLLRDHUP")
    # Edge-triggered; once (re-armed by #modify).
    ET = Native.constant_get("EPOLLET")
    ONESHOT = Native.constant_get("EPOLLONESHOT")

    EVENT_NAMES = {
      in: IN, read: IN, readable: IN, pri: PRI, out: OUT, write: OUT, writable: OUT,
      err: ERR, hup: HUP, rdhup: RDHUP, et: ET, edge: ET, oneshot: ONESHOT
    }.freeze

    # events: an Integer of the bits above, a Symbol (:in, :out, :pri,
    # :rdhup, :err, :hup, :et, :oneshot; :read, :write too) or an Array of
    # them.
    def self.events_arg(events)
      case events
      when Integer then events
      when Symbol
        EVENT_NAMES.fetch(events) { raise ArgumentError, "unknown poller event #{events.inspect}" }
      when Array then events.sum(0) { |e| events_arg(e) }
      else raise TypeError, "poller events are an Integer, a Symbol or an Array of them, not #{events.class}"
      end
    end

    # backend: nil (the platform's best) or :poll (poll(2), for tests).
    def initialize(backend: nil)
      raise ArgumentError, "unknown poller backend #{backend.inspect}" unless backend.nil? || backend == :poll

      weft_own(N.poller_new(backend == :poll ? Native::WEFT_POLLER_POLL : 0))
      @keys = {}    # weft's key -> the caller's key
      @targets = {} # target id -> [weft's key, the target (an IO kept open)]
      @next = 0
      @lock = ::Thread::Mutex.new
    end

    # Watch target (a Weft socket or Event, an Integer descriptor, a Ruby
    # IO) for events; #wait reports key (default: the target itself).
    # Errno::EEXIST if it is registered already.  Closing a Weft target
    # unregisters it (weft does); a raw descriptor must be unregistered
    # before it is closed.
    def register(target, events = IN, key = target)
      bits = Poller.events_arg(events)
      id, handle, fd = identify(target)
      wkey = @lock.synchronize { @next += 1 }
      @keys[wkey] = key
      begin
        handle ? N.poller_register(@handle, handle, bits, wkey) : N.poller_register_fd(@handle, fd, bits, wkey)
      rescue StandardError => e
        @keys.delete(wkey)
        raise e.is_a?(BadHandleError) ? closed_or(e) : e
      end
      old = @targets[id]
      @keys.delete(old[0]) if old # a Weft target closed without #unregister
      @targets[id] = [wkey, target]
      self
    end

    # New events (and key) for a registered target; also re-arms a
    # :oneshot one.  Errno::ENOENT if it is not registered.
    def modify(target, events, key = nil)
      bits = Poller.events_arg(events)
      id, handle, fd = identify(target)
      entry = @targets[id]
      wkey = entry ? entry[0] : 0
      handle ? N.poller_modify(@handle, handle, bits, wkey) : N.poller_modify_fd(@handle, fd, bits, wkey)
      @keys[wkey] = key unless key.nil?
      self
    end

    # Errno::ENOENT if target is not registered.
    def unregister(target)
      id, handle, fd = identify(target)
      begin
        handle ? N.poller_unregister(@handle, handle) : N.poller_unregister_fd(@handle, fd)
      ensure
        entry = @targets.delete(id)
        @keys.delete(entry[0]) if entry
      end
      self
    end

    def registered?(target)
      @targets.key?(identify(target)[0])
    end

    # Wait up to timeout seconds (nil: forever) for registrations to be
    # ready: [[key, events], ...], at most max of them (more come with the
    # next call); [] when the timeout ran out.
    def wait(timeout = nil, max = 64)
      N.poller_poll(@handle, Weft.timeout_arg(timeout), max).filter_map do |wkey, bits|
        key = @keys.fetch(wkey) { next nil } # unregistered meanwhile
        [key, bits]
      end
    rescue BadHandleError => e
      raise closed_or(e)
    end
    alias poll wait

    def close
      super
      @keys.clear
      @targets.clear
      nil
    end

    private

    # [id, handle or nil, fd or nil] of a target.
    def identify(target)
      case target
      when Stream then raise TypeError, "a Weft::Stream cannot be polled: poll its socket"
      when Handle then [target.handle, target.handle, nil]
      when Integer then [[:fd, target], nil, target]
      when IO then [[:fd, target.fileno], nil, target.fileno]
      else raise TypeError, "a poller watches Weft sockets and Events, descriptors and IOs, not #{target.class}"
      end
    end
  end
end
