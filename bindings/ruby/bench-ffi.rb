# frozen_string_literal: true

# bench-ffi.rb - per-call cost of a trivial libc function (abs, strlen)
# through Weft::FFI, beside Debian's ruby-ffi and Ruby's Fiddle measured
# in the same run (a peer that is not installed is skipped).  The issue's
# target: Weft::FFI <= ruby-ffi.  `make bench-ruby` (BENCH_FLAGS=-q:
# shorter).
require "weft_ffi"

ROUNDS = ARGV.include?("-q") ? 200_000 : 2_000_000

def measure(rounds)
  yield 1000 # warm up
  best = Float::INFINITY
  5.times do
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
    yield rounds
    best = [best, Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond) - t0].min
  end
  best.to_f / rounds
end

def peer(name)
  require name
  true
rescue LoadError
  false
end

libc = Weft::FFI.load("c")
weft_abs = libc.func(:abs, :int, [:int])
weft_abs_noerrno = libc.func(:abs, :int, [:int], errno: false)
weft_abs_libffi = libc.func(:abs, :int, [:int], libffi: true, errno: false)
weft_abs_blocking = libc.func(:abs, :int, [:int], blocking: true)
weft_strlen = libc.func(:strlen, :size_t, [:string])

module WeftLibC
  extend Weft::FFI::DSL
  ffi_lib "c"
  attach_function :abs, [:int], :int
end

have_ffi = peer("ffi")
if have_ffi
  module RbFFI
    extend FFI::Library
    ffi_lib "c"
    attach_function :abs, [:int], :int
    attach_function :strlen, [:string], :size_t
    attach_function :abs_blocking, :abs, [:int], :int, blocking: true
  end
  ffi_abs_fn = FFI::Function.new(:int, [:int], RbFFI.ffi_libraries.first.find_function("abs"))
end

have_fiddle = peer("fiddle")
if have_fiddle
  fiddle_libc = Fiddle.dlopen(Weft::FFI.find_library("c"))
  fiddle_abs = Fiddle::Function.new(fiddle_libc["abs"], [Fiddle::TYPE_INT], Fiddle::TYPE_INT)
  fiddle_strlen = Fiddle::Function.new(fiddle_libc["strlen"], [Fiddle::TYPE_VOIDP], Fiddle::TYPE_SIZE_T)
end

rows = []
abs_base = have_ffi ? measure(ROUNDS) { |n| n.times { RbFFI.abs(-5) } } : nil
rows << ["ruby-ffi attach_function abs", abs_base, :base] if have_ffi
rows << ["ruby-ffi FFI::Function#call abs", measure(ROUNDS) { |n| n.times { ffi_abs_fn.call(-5) } }] if have_ffi
rows << ["ruby-ffi abs, blocking: true", measure(ROUNDS) { |n| n.times { RbFFI.abs_blocking(-5) } }] if have_ffi
rows << ["Fiddle::Function#call abs", measure(ROUNDS) { |n| n.times { fiddle_abs.call(-5) } }] if have_fiddle
rows << ["Weft::FFI abs (errno saved)", measure(ROUNDS) { |n| n.times { weft_abs.call(-5) } }]
rows << ["Weft::FFI abs, errno: false", measure(ROUNDS) { |n| n.times { weft_abs_noerrno.call(-5) } }]
rows << ["Weft::FFI abs, libffi path", measure(ROUNDS) { |n| n.times { weft_abs_libffi.call(-5) } }]
rows << ["Weft::FFI abs, blocking: true", measure(ROUNDS) { |n| n.times { weft_abs_blocking.call(-5) } }]
rows << ["Weft::FFI abs via f.(x)", measure(ROUNDS) { |n| n.times { weft_abs.(-5) } }]
rows << ["Weft::FFI::DSL attach_function abs", measure(ROUNDS) { |n| n.times { WeftLibC.abs(-5) } }]

s = "hello"
strlen_base = have_ffi ? measure(ROUNDS) { |n| n.times { RbFFI.strlen(s) } } : nil
srows = []
srows << ["ruby-ffi attach_function strlen", strlen_base, :base] if have_ffi
srows << ["Fiddle::Function#call strlen", measure(ROUNDS) { |n| n.times { fiddle_strlen.call(s) } }] if have_fiddle
srows << ["Weft::FFI strlen", measure(ROUNDS) { |n| n.times { weft_strlen.call(s) } }]

puts "ruby #{RUBY_VERSION}, weft #{Weft::VERSION}, #{ROUNDS} calls, best of 5" \
     "#{ENV['SANITIZER'].to_s.empty? ? '' : " (#{ENV['SANITIZER']} build: not representative)"}"
puts "  ruby-ffi not installed: skipped (Debian: ruby-ffi)" unless have_ffi
puts "  Fiddle not available: skipped" unless have_fiddle
[[rows, abs_base], [srows, strlen_base]].each do |list, base|
  list.each do |name, ns, tag|
    if tag == :base
      printf "  %-36s %7.1f ns/call  (baseline)\n", name, ns
    elsif base
      printf "  %-36s %7.1f ns/call  %5.2fx ruby-ffi\n", name, ns, ns / base
    else
      printf "  %-36s %7.1f ns/call\n", name, ns
    end
  end
end
