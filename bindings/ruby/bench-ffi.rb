# frozen_string_literal: true

# bench-ffi.rb - per-call cost of a trivial libc function (abs, strlen)
# through Weft::FFI, beside Debian's ruby-ffi and Ruby's Fiddle measured
# in the same run (a peer that is not installed is skipped), and of a
# struct field read and write (Fiddle has no structs of this kind).  The issue's
# target: Weft::FFI <= ruby-ffi.  `make bench-ruby` (BENCH_FLAGS=-q:
# shorter).
require "weft_ffi"

ROUNDS = ARGV.include?("-q") ? 200_000 : 2_000_000

# The best of 5 per candidate, the candidates interleaved round by round
# so that a change of the machine's load hits them all alike.
def measure_all(rounds, candidates)
  candidates.each { |_, blk| blk.call(1000) } # warm up
  best = Array.new(candidates.size, Float::INFINITY)
  5.times do
    candidates.each_with_index do |(_, blk), i|
      t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
      blk.call(rounds)
      best[i] = [best[i], Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond) - t0].min
    end
  end
  candidates.each_with_index.map { |(name, _), i| [name, best[i].to_f / rounds] }
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

abs_cands = []
abs_cands << ["ruby-ffi attach_function abs", ->(n) { n.times { RbFFI.abs(-5) } }] if have_ffi
abs_cands << ["ruby-ffi FFI::Function#call abs", ->(n) { n.times { ffi_abs_fn.call(-5) } }] if have_ffi
abs_cands << ["ruby-ffi abs, blocking: true", ->(n) { n.times { RbFFI.abs_blocking(-5) } }] if have_ffi
abs_cands << ["Fiddle::Function#call abs", ->(n) { n.times { fiddle_abs.call(-5) } }] if have_fiddle
abs_cands << ["Weft::FFI abs (errno saved)", ->(n) { n.times { weft_abs.call(-5) } }]
abs_cands << ["Weft::FFI abs, errno: false", ->(n) { n.times { weft_abs_noerrno.call(-5) } }]
abs_cands << ["Weft::FFI abs, libffi path", ->(n) { n.times { weft_abs_libffi.call(-5) } }]
abs_cands << ["Weft::FFI abs, blocking: true", ->(n) { n.times { weft_abs_blocking.call(-5) } }]
abs_cands << ["Weft::FFI abs via f.(x)", ->(n) { n.times { weft_abs.(-5) } }]
abs_cands << ["Weft::FFI::DSL attach_function abs", ->(n) { n.times { WeftLibC.abs(-5) } }]

s = "hello"
strlen_cands = []
strlen_cands << ["ruby-ffi attach_function strlen", ->(n) { n.times { RbFFI.strlen(s) } }] if have_ffi
strlen_cands << ["Fiddle::Function#call strlen", ->(n) { n.times { fiddle_strlen.call(s) } }] if have_fiddle
strlen_cands << ["Weft::FFI strlen", ->(n) { n.times { weft_strlen.call(s) } }]

class WeftPoint < Weft::FFI::Struct
  layout :x, :int, :y, :double
end
wp = WeftPoint.new
read_cands = []
write_cands = []
if have_ffi
  fp = Class.new(FFI::Struct) { layout :x, :int, :y, :double }.new
  read_cands << ["ruby-ffi Struct#[] read", ->(n) { n.times { fp[:x] } }]
  write_cands << ["ruby-ffi Struct#[]= write", ->(n) { n.times { fp[:x] = 5 } }]
end
read_cands << ["Weft::FFI Struct#[] read", ->(n) { n.times { wp[:x] } }]
read_cands << ["Weft::FFI accessor read", ->(n) { n.times { wp.x } }]
write_cands << ["Weft::FFI Struct#[]= write", ->(n) { n.times { wp[:x] = 5 } }]
write_cands << ["Weft::FFI accessor write", ->(n) { n.times { wp.x = 5 } }]

rows = measure_all(ROUNDS, abs_cands)
srows = measure_all(ROUNDS, strlen_cands)
abs_base = have_ffi ? rows[0][1] : nil
strlen_base = have_ffi ? srows[0][1] : nil
rows[0] << :base if have_ffi
srows[0] << :base if have_ffi

puts "ruby #{RUBY_VERSION}, weft #{Weft::VERSION}, #{ROUNDS} calls, best of 5, interleaved" \
     "#{ENV['SANITIZER'].to_s.empty? ? '' : " (#{ENV['SANITIZER']} build: not representative)"}"
puts "  ruby-ffi not installed: skipped (Debian: ruby-ffi)" unless have_ffi
puts "  Fiddle not available: skipped" unless have_fiddle
groups = [[rows, abs_base], [srows, strlen_base]]
[read_cands, write_cands].each do |cands|
  list = measure_all(ROUNDS, cands)
  list[0] << :base if have_ffi
  groups << [list, have_ffi ? list[0][1] : nil]
end

groups.each do |list, base|
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
