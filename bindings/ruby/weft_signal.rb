# frozen_string_literal: true

# weft_signal.rb - Python's signal module in the shape of Ruby's
# Signal.trap, over weft's signal calls (abi/weft.h, "signal";
# bindings/ruby/rbsignal.c).  Loaded by weft.rb.
#
#   old = Weft::Signal.trap(:USR1) { |signo| puts "got #{signo}" }
#   Weft::Signal.raise(:USR1)          # the handler has run when this returns
#   Weft::Signal.setitimer(:REAL, 0.5) # SIGALRM in 0.5 s
#   Weft::Signal.trap(:USR1, old)      # back to what it was
#
# Handlers run on a Ruby thread of the binding, "weft-signals", at once
# (whatever the main thread does meanwhile: a weft wait there goes on, with
# its deadline, through any number of signals), or on the calling main
# thread for Weft::Signal.raise, pause and dispatch.  An exception in a
# handler is raised in the main thread, as a Signal.trap handler's is, and
# ends a weft wait there.
module Weft
  module Signal
    # Signal numbers (SIGINT, ...), NSIG and ITIMER_REAL, ... as this
    # platform has them, from weft's constant table.
    Weft.constants_hash.each do |name, value|
      const_set(name, value) if name.match?(/\A(SIG[A-Z0-9]+|NSIG|ITIMER_[A-Z]+)\z/)
    end

    # Signal names without "SIG" => numbers, as ::Signal.list (aliases
    # included; no "EXIT").
    LIST = constants.grep(/\ASIG/).to_h { |c| [c.to_s.delete_prefix("SIG"), const_get(c)] }.freeze

    # The signals Ruby keeps for itself (its thread switches, its crash
    # report): Signal.trap refuses them, and so does trap here.
    RESERVED = %w[SEGV BUS ILL FPE VTALRM].filter_map { |n| LIST[n] }.freeze

    HANDLER = Native::WEFT_SIG_HANDLER
    IGN = Native::WEFT_SIG_IGN
    DFL = Native::WEFT_SIG_DFL
    FOREIGN = Native::WEFT_SIG_FOREIGN
    private_constant :RESERVED, :HANDLER, :IGN, :DFL, :FOREIGN

    # Procs taken from Ruby's own Signal.trap by a trap here: given back to
    # trap, they go back to Ruby's.
    RUBY_TRAPS = ObjectSpace::WeakMap.new
    private_constant :RUBY_TRAPS

    NO_COMMAND = Object.new.freeze
    private_constant :NO_COMMAND

    module_function

    # The number of a signal given as 2, :INT, "INT", :SIGINT or "SIGINT";
    # ArgumentError for an unknown name (as Signal.trap raises).
    def signum(sig)
      case sig
      when Integer
        sig
      when Symbol, String
        name = sig.to_s.delete_prefix("SIG")
        LIST.fetch(name) { ::Kernel.raise ArgumentError, "unsupported signal 'SIG#{name}'" }
      else
        ::Kernel.raise ArgumentError, "bad signal type #{sig.class}"
      end
    end

    # The name of signal `num` without "SIG" ("INT"), or nil.
    def signame(num)
      names = LIST.select { |_, v| v == num }.keys
      ruby = ::Signal.signame(num) if num.is_a?(Integer)
      names.include?(ruby) ? ruby : names.first
    end

    # Signal names => numbers (a new Hash).
    def list
      LIST.dup
    end

    # Set what signal `sig` does, as Signal.trap: a block or a callable
    # (called with the signal number on the "weft-signals" thread; one
    # whose arity is 0 with nothing), "IGNORE" ("SIG_IGN", "", nil),
    # "SYSTEM_DEFAULT" (the system's action), or "DEFAULT" ("SIG_DFL") and
    # "EXIT", which give the signal back to Ruby's own handling.  Returns
    # the previous handler: a callable, "IGNORE", "SYSTEM_DEFAULT", Ruby's
    # previous trap ("DEFAULT", "EXIT", a Proc), or nil for a handler
    # neither Ruby nor Weft installed (nil given to trap ignores, as in
    # Signal.trap); handing any other back to trap restores it.
    # Only the main thread sets handlers (Weft::StateError elsewhere, as
    # Python's rule).  Errno::EINVAL for signal numbers weft refuses (0,
    # NSIG, SIGKILL, SIGSTOP); ArgumentError for Ruby's reserved ones.
    def trap(sig, command = NO_COMMAND, &block)
      num = signum(sig)
      if block
        ::Kernel.raise ArgumentError, "give a command or a block, not both" unless command.equal?(NO_COMMAND)

        command = block
      elsif command.equal?(NO_COMMAND)
        ::Kernel.raise ArgumentError, "tried to create Proc object without a block"
      end
      check_command(command)
      ::Kernel.raise ArgumentError, "can't trap reserved signal: SIG#{signame(num)}" if RESERVED.include?(num)
      main_thread_only("trap")

      action, handler = Native.signal_get(num)
      previous = action == FOREIGN ? take_from_ruby(num) : command_for(action, handler)
      begin
        install(num, command)
      rescue StandardError
        ::Signal.trap(num, previous) if action == FOREIGN && !previous.nil?
        ::Kernel.raise
      end
      previous
    end

    # The handler of `sig` now, without changing anything: what trap would
    # return, except that a signal Ruby handles (or any other C handler
    # weft did not install) is "DEFAULT".  Python's getsignal.
    def handler(sig)
      action, handler = Native.signal_get(signum(sig))
      action == FOREIGN ? "DEFAULT" : command_for(action, handler)
    end

    def getsignal(sig)
      handler(sig)
    end

    # Send signal `sig` to the calling thread (raise(3)).  On the main
    # thread its Weft handler has run when this returns (as Process.kill of
    # the own pid runs a trap handler), and raises what the handler raised;
    # elsewhere the signals thread runs it.  Also Weft::Signal.raise.
    def raise_signal(sig)
      Native.signal_raise(signum(sig))
      nil
    end

    # Send `sig` to a Weft::Thread (or a thread handle); signal 0 only
    # checks that it is alive (Errno::ESRCH otherwise).
    def pthread_kill(thread, sig)
      Native.signal_pthread_kill(thread.is_a?(Handle) ? thread.handle : thread, signum(sig))
      nil
    end

    # Run the handlers of the signals that arrived and have not run yet
    # (only `sig`'s if given), on the calling thread; how many ran.  The
    # signals thread does this by itself; a handler's exception is raised
    # here.
    def dispatch(sig = nil)
      Native.signal_dispatch(sig.nil? ? 0 : signum(sig))
    end

    # Sleep (without the GVL, interruptible) until a signal Weft handles
    # arrives; on the main thread its handler has run when this returns.
    def pause
      Native.signal_pause
      nil
    end

    # SIGALRM in `seconds` (an Integer >= 0; 0 cancels); the seconds that
    # were left of the previous alarm (0 if none).
    def alarm(seconds)
      seconds = Integer(seconds)
      ::Kernel.raise ArgumentError, "seconds must be >= 0, not #{seconds}" if seconds.negative?

      Native.signal_alarm(seconds)
    end

    # setitimer(2): timer `which` (ITIMER_REAL, :REAL, "ITIMER_VIRTUAL",
    # :PROF, ...) fires after `seconds` (0 disarms), then every `interval`
    # (0: once).  Returns the old [seconds, interval].  Errno::EINVAL for a
    # bad number or time.
    def setitimer(which, seconds, interval = 0.0)
      Native.signal_setitimer(itimer(which), seconds, interval)
    end

    # [seconds, interval] of timer `which`.
    def getitimer(which)
      Native.signal_getitimer(itimer(which))
    end

    # Have every signal Weft handles written (its number, one byte) to
    # `fd`: a descriptor, an IO or anything with #fileno (a Weft socket),
    # which must be non-blocking; -1 or nil for none.  The previous
    # descriptor, or -1.  With warn_on_full_buffer: false a full buffer is
    # not warned about.  Main thread only, as Python's.
    def set_wakeup_fd(fd, warn_on_full_buffer: true)
      main_thread_only("set_wakeup_fd")
      fd = -1 if fd.nil?
      fd = fd.fileno if fd.respond_to?(:fileno)
      Native.signal_set_wakeup_fd(fd, warn_on_full_buffer ? 1 : 0)
    end

    # [count, errno]: writes to the wakeup descriptor that failed since the
    # last call (the signals thread warns about them too).
    def wakeup_errors
      Native.signal_wakeup_errors
    end

    # siginterrupt(3): with flag true, system calls interrupted by `sig`
    # fail with EINTR (what trap sets); false, they restart.  weft's own
    # calls go on either way.
    def siginterrupt(sig, flag)
      Native.signal_siginterrupt(signum(sig), flag ? 1 : 0)
      nil
    end

    # The system's description of `sig` ("Interrupt"), or nil.
    def strsignal(sig)
      Native.signal_strsignal(signum(sig))
    end

    # Every signal number this process may handle.
    def valid_signals
      (1...NSIG).select { |n| Native.signal_valid(n) }
    end

    # ---- the rest is the implementation --------------------------------

    def check_command(command)
      return if command.respond_to?(:call)
      return if command.nil?
      return if (command.is_a?(String) || command.is_a?(Symbol)) && COMMANDS.key?(command.to_s)

      ::Kernel.raise ArgumentError, "a signal handler is a callable or one of #{COMMANDS.keys.join(', ')}, " \
                                    "not #{command.inspect}"
    end

    COMMANDS = {
      "IGNORE" => :ignore, "SIG_IGN" => :ignore, "" => :ignore,
      "SYSTEM_DEFAULT" => :system,
      "DEFAULT" => :ruby, "SIG_DFL" => :ruby, "EXIT" => :ruby
    }.freeze

    def install(num, command)
      if command.respond_to?(:call) && !RUBY_TRAPS.key?(command)
        Native.signal_set(num, HANDLER, command)
        return
      end
      case command.nil? ? :ignore : (command.respond_to?(:call) ? :ruby : COMMANDS.fetch(command.to_s))
      when :ignore then Native.signal_set(num, IGN, nil)
      when :system then Native.signal_set(num, DFL, nil)
      else
        # Ruby's own: weft lets go first (ignoring the signal meanwhile,
        # rather than letting the system's action kill the process).
        Native.signal_set(num, IGN, nil) if Native.signal_get(num)[0] == HANDLER
        ::Signal.trap(num, command.is_a?(Symbol) ? command.to_s : command)
      end
    end

    # What Signal.trap would say of a signal weft did not install a
    # handler for (Ruby's, or another C one): asked of Ruby's trap, which
    # ignores the signal meanwhile.
    def take_from_ruby(num)
      previous = ::Signal.trap(num, "IGNORE")
      RUBY_TRAPS[previous] = true if previous.respond_to?(:call)
      previous
    end

    def command_for(action, handler)
      case action
      when HANDLER then handler # nil: another language's
      when IGN then "IGNORE"
      when DFL then "SYSTEM_DEFAULT"
      end
    end

    def main_thread_only(what)
      return if ::Thread.current == ::Thread.main

      ::Kernel.raise Weft.error(StateError, "Weft::Signal.#{what} works only in the main thread")
    end

    def itimer(which)
      return which if which.is_a?(Integer)

      name = which.to_s.upcase
      name = "ITIMER_#{name}" unless name.start_with?("ITIMER_")
      return const_get(name) if const_defined?(name, false)

      ::Kernel.raise ArgumentError, "unknown interval timer #{which.inspect}"
    end

    private_class_method :check_command, :install, :take_from_ruby, :command_for, :main_thread_only,
                         :itimer
    private_constant :COMMANDS

    class << self
      alias_method :raise, :raise_signal
    end
  end

  # In a forked child the signals thread starts again.
  module SignalFork
    def _fork
      pid = super
      Native.signal_after_fork if pid.zero?
      pid
    end
  end
  ::Process.singleton_class.prepend(SignalFork)
  private_constant :SignalFork
end
