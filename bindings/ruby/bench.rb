# frozen_string_literal: true

# bench.rb - per-call cost of a trivial weft call through the Ruby binding:
# an uncontended Lock acquire+release, beside Ruby's own Thread::Mutex
# measured in the same run.  `make bench-ruby` (BENCH_FLAGS=-q: shorter).
require "weft"

ROUNDS = ARGV.include?("-q") ? 200_000 : 2_000_000

def measure(rounds)
  yield 1000 # warm up
  best = Float::INFINITY
  3.times do
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
    yield rounds
    best = [best, Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond) - t0].min
  end
  best.to_f / rounds
end

mutex = Thread::Mutex.new
lock = Weft::Lock.new
h = lock.handle
native = Weft::Native

baseline = measure(ROUNDS) { |n| n.times { mutex.lock; mutex.unlock } }
rows = [
  ["Weft::Lock#acquire + #release", measure(ROUNDS) { |n| n.times { lock.acquire; lock.release } }],
  ["Weft::Lock#lock + #unlock", measure(ROUNDS) { |n| n.times { lock.lock; lock.unlock } }],
  ["Weft::Native.lock_acquire + lock_release", measure(ROUNDS) { |n| n.times { native.lock_acquire(h, -1.0); native.lock_release(h) } }]
]
sync_base = measure(ROUNDS) { |n| n.times { mutex.synchronize { nil } } }
sync = measure(ROUNDS) { |n| n.times { lock.synchronize { nil } } }

puts "ruby #{RUBY_VERSION}, weft #{Weft::VERSION}, #{ROUNDS} rounds, best of 3" \
     "#{ENV['SANITIZER'].to_s.empty? ? '' : " (#{ENV['SANITIZER']} build: not representative)"}"
printf "  %-42s %8.1f ns/op  (baseline)\n", "Thread::Mutex#lock + #unlock", baseline
rows.each { |name, ns| printf "  %-42s %8.1f ns/op  %5.2fx Mutex\n", name, ns, ns / baseline }
printf "  %-42s %8.1f ns/op  (baseline)\n", "Thread::Mutex#synchronize { }", sync_base
printf "  %-42s %8.1f ns/op  %5.2fx Mutex\n", "Weft::Lock#synchronize { }", sync, sync / sync_base
