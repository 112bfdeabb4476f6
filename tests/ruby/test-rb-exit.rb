# frozen_string_literal: true

# At exit Ruby waits for the non-daemon weft threads, as Python does; the
# daemon ones do not hold it up.  Each case runs in a process of its own.
require_relative "helper"

class TestExit < WeftTestCase
  def test_exit_waits_for_non_daemon_threads_and_timers
    code = <<~RUBY
      require "weft"
      go = Weft::Event.new
      Weft::Thread.new { go.wait; Weft.sleep(0.05); puts "thread done"; $stdout.flush }
      Weft::Timer.new(0.1) { puts "timer fired"; $stdout.flush }
      Weft::Thread.new { go.set }
      puts "main done"; $stdout.flush
    RUBY
    status, out = ruby_run(code)
    assert status.success?, out
    assert_equal ["main done", "thread done", "timer fired"].sort, out.lines.map(&:chomp).sort
  end

  def test_exit_does_not_wait_for_daemon_threads
    code = <<~RUBY
      require "weft"
      started = Weft::Event.new
      Weft::Thread.new(daemon: true) { started.set; Weft.sleep(3600) }
      Weft::Timer.new(3600, daemon: true) { puts "never" }
      started.wait
      puts "main done"
    RUBY
    status, out = ruby_run(code)
    assert status.success?, out
    assert_equal "main done\n", out
  end

  def test_exit_after_an_exception_in_main_still_waits
    code = <<~RUBY
      require "weft"
      Weft::Thread.new { Weft.sleep(0.05); puts "thread done"; $stdout.flush }
      raise "main failed"
    RUBY
    status, out = ruby_run(code)
    refute status.success?
    assert_includes out, "thread done"
    assert_includes out, "main failed"
  end

  def test_daemon_timer_firing_after_exit_does_no_harm
    code = <<~RUBY
      at_exit { sleep 0.4 } # runs last: the late timer fires meanwhile
      require "weft"
      Weft::Timer.new(0.2, daemon: true) { puts "late" }
      Weft::Timer.new(0, daemon: true) { puts "early" }.join
      puts "main done"
    RUBY
    status, out = ruby_run(code)
    assert status.success?, out
    assert_equal "early\nmain done\n", out # too late to enter Ruby: not run
  end
end
