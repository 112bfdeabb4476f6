# frozen_string_literal: true

# helper.rb - what every tests/ruby/test-rb-*.rb shares: minitest with a
# TAP reporter (one line per test, for automake's TAP driver), a watchdog,
# and small waiting helpers.  No timing assertions: tests wait for states,
# never for durations.
require "minitest"
require "rbconfig"
require "stringio"
require "weft"

module WeftTest
  # TAP for automake's driver: "ok N - Class#test", diagnostics as "#".
  class TapReporter < Minitest::AbstractReporter
    def initialize(io, seed)
      super()
      @io = io
      @seed = seed
      @count = 0
    end

    def start
      @io.puts "# seed #{@seed}"
    end

    def record(result)
      @count += 1
      name = "#{result.klass}##{result.name}"
      if result.skipped?
        @io.puts "ok #{@count} - #{name} # SKIP #{result.failure.message}"
      elsif result.passed?
        @io.puts "ok #{@count} - #{name}"
      else
        @io.puts "not ok #{@count} - #{name}"
        result.failures.each do |f|
          text = f.is_a?(Minitest::UnexpectedError) ? "#{f.error.class}: #{f.error.message}\n#{f.backtrace.first(12).join("\n")}" : "#{f.message}\n#{f.location}"
          text.each_line { |l| @io.puts "#   #{l.chomp}" }
        end
      end
      @io.flush
    end

    def report
      @io.puts "1..#{@count}"
      @io.flush
    end

    def passed?
      true # the TAP lines carry the verdict
    end
  end

  # Sanitizer builds run several times slower.
  SLOW = ENV["SANITIZER"].to_s.empty? ? 1 : 5
  LIMIT = 120 * SLOW # seconds for a whole test file

  # Wait (polling) until the block is true; fails the test after a while
  # rather than hanging.
  def wait_until(what = "condition", limit: 20 * SLOW)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + limit
    until yield
      flunk "timed out waiting for #{what}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.005
    end
  end

  # Wait until a Ruby thread blocks (in a weft call, without the GVL).
  def wait_blocked(thread)
    wait_until("#{thread.inspect} to block") { thread.status == "sleep" || !thread.alive? }
    assert thread.alive?, -> { "thread ended instead of blocking: #{thread.value.inspect}" }
  end

  # Run `code` in a new Ruby process with this load path; [status, output].
  def ruby_run(code, signal: nil, ready: nil)
    args = $LOAD_PATH.grep(%r{bindings/ruby|tests/ruby}).flat_map { |d| ["-I", d] }
    r, w = IO.pipe
    pid = spawn(RbConfig.ruby, *args, "-e", code, out: w, err: w)
    w.close
    out = +""
    if signal
      out << r.gets.to_s until out.include?(ready) || r.eof?
      wait_in_futex(pid)
      Process.kill(signal, pid)
    end
    out << r.read
    r.close
    [Process.wait2(pid)[1], out]
  end

  # Wait until the main thread of process `pid` sleeps in futex(2): there
  # it waits in weft (x86-64 Linux; elsewhere a short sleep).
  def wait_in_futex(pid)
    path = "/proc/#{pid}/syscall"
    return sleep(0.2 * SLOW) unless RbConfig::CONFIG["host_cpu"] == "x86_64" && File.readable?(path)

    wait_until("process #{pid} to wait in weft") do
      File.read(path).split.first == "202" # x86-64 futex
    rescue SystemCallError
      true
    end
  end

  # What the block wrote to $stderr (Ruby's thread reports write there).
  def capture_stderr
    old = $stderr
    $stderr = StringIO.new
    yield
    $stderr.string
  ensure
    $stderr = old
  end

  # A thread that fails the whole file instead of letting it hang.
  def self.start_watchdog
    Thread.new do
      sleep LIMIT
      $stdout.puts "Bail out! #{File.basename($PROGRAM_NAME)} still running after #{LIMIT} s"
      $stdout.flush
      Process.exit!(1)
    end
  end
end

module Minitest
  def self.plugin_weft_tap_init(options)
    reporter.reporters.clear
    reporter << WeftTest::TapReporter.new($stdout, options[:seed])
  end
end
Minitest.extensions << "weft_tap"

class WeftTestCase < Minitest::Test
  include WeftTest
end

WeftTest.start_watchdog
at_exit { exit(Minitest.run(ARGV) ? 0 : 1) }
