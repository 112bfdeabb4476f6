# frozen_string_literal: true

# Weft::FFI: libc and libm through the ctypes engine (scalars, strings,
# variadic calls, structs by value, out pointers, errno), struct layout
# against gcc's (hand-computed here; tests/ffi/ffi-layout.py does random
# ones), memory, callbacks from Ruby threads and from threads Ruby does
# not know, the GVL, and bad input.
require_relative "helper"
require "weft_ffi"

class TestFFI < WeftTestCase
  F = Weft::FFI

  def libc
    @libc ||= F.load("c")
  end

  def libm
    @libm ||= F.load("m")
  end

  # ---- libraries --------------------------------------------------------

  def test_load_by_short_name_file_name_and_process
    assert_equal "libc.so.6", F.find_library("c")
    assert_kind_of F::Pointer, libc.symbol("strlen")
    refute libc.symbol("strlen").null?
    same = F.load("libc.so.6")
    assert_equal libc.symbol("strlen"), same.symbol("strlen")
    # In the process's namespace a sanitizer's runtime (preloaded) may
    # come first with its own strlen: compare a function none intercepts.
    process = F.load(nil)
    assert_equal libc.symbol("div"), process.symbol("div")
    F.load("m") { |m| assert_in_delta 1.0, m.func(:cos, :double, [:double]).call(0), 0 }
  end

  def test_missing_library_and_symbol
    e = assert_raises(Weft::FFIError) { F.load("libno-such-library.so") }
    assert_match(/libno-such-library\.so/, e.message)
    assert_equal Weft::Native::WEFT_EFFI, e.code
    e = assert_raises(Errno::ENOENT) { libc.symbol("no_such_function_here") }
    assert_kind_of Weft::Error, e
    assert_raises(Errno::ENOENT) { libc.func(:no_such_function_here, :int, []) }
    assert_raises(Errno::ENOENT) { F.find_library("no-such-library-name") }
  end

  def test_closed_library_refuses_calls
    lib = F.load("c")
    abs = lib.func(:abs, :int, [:int])
    assert_equal 3, abs.call(-3)
    lib.close
    assert lib.closed?
    assert_raises(Weft::ClosedError) { abs.call(-3) }
    assert_raises(Weft::ClosedError) { lib.func(:abs, :int, [:int]) }
    assert_raises(Weft::ClosedError) { lib.symbol("abs") }
    assert_raises(Weft::ClosedError) { lib.close }
  end

  # ---- calls ------------------------------------------------------------

  def test_scalars_through_libc_and_libm
    strlen = libc.func(:strlen, :size_t, [:string])
    assert_equal 5, strlen.call("hello")
    assert_equal 5, strlen.("hello")
    assert_equal 0, strlen[""]
    assert_equal 1, strlen.arity
    assert_equal "strlen", strlen.name
    abs = libc.func(:abs, :int, [:int])
    assert_equal 42, abs.call(-42)
    assert_equal 2**31 - 1, abs.call(-(2**31 - 1))
    labs = libc.func(:labs, :long, [:long])
    assert_equal 2**62, labs.call(-(2**62))
    assert_equal [1, 2, 3], [-1, 2, -3].map(&abs)
    assert_in_delta Math.sqrt(2), libm.func(:sqrt, :double, [:double]).call(2.0), 0
    assert_equal 4.0, libm.func(:sqrt, :double, [:double]).call(16) # an Integer converts
    assert_equal 1024.0, libm.func(:pow, :double, %i[double double]).call(2, 10)
    assert_in_delta 1.5, libm.func(:fabsf, :float, [:float]).call(-1.5), 0
    assert_equal "A".ord, libc.func(:toupper, :int, [:int]).call("a".ord)
  end

  def test_unsigned_64_bit_results_are_non_negative
    strtoull = libc.func(:strtoull, :ulong_long, %i[string pointer int])
    assert_equal 2**64 - 1, strtoull.call("18446744073709551615", nil, 10)
    strtoul = libc.func(:strtoul, :ulong, %i[string pointer int])
    assert_equal 2**63, strtoul.call("9223372036854775808", nil, 10)
  end

  def test_fast_path_and_libffi_path_agree
    fast = libc.func(:labs, :long, [:long])
    slow = libc.func(:labs, :long, [:long], libffi: true)
    assert fast.fast?
    refute slow.fast?
    [0, 1, -1, 2**40, -(2**62), 2**63 - 1].each { |v| assert_equal fast.call(v), slow.call(v) }
    pow_fast = libm.func(:pow, :double, %i[double double])
    pow_slow = libm.func(:pow, :double, %i[double double], libffi: true)
    assert_equal pow_fast.call(1.5, 3.25), pow_slow.call(1.5, 3.25)
  end

  def test_strings_in_and_out
    strchr = libc.func(:strchr, :string, %i[string int])
    assert_equal "lo world", strchr.call("hello world", "l".ord + 0).then { |s| s[1..] }
    assert_nil strchr.call("hello", "z".ord)
    getenv = libc.func(:getenv, :string, [:string])
    ENV["WEFT_FFI_TEST"] = "value"
    assert_equal "value", getenv.call("WEFT_FFI_TEST")
    assert_nil getenv.call("WEFT_FFI_TEST_UNSET_#{rand(1 << 30)}")
  end

  def test_variadic_snprintf
    snprintf = libc.func(:snprintf, :int, [:pointer, :size_t, :string, :varargs])
    assert snprintf.variadic?
    assert_equal(-4, snprintf.arity)
    buf = F::MemoryPointer.new(64)
    n = snprintf.call(buf, 64, "%d %s %.2f %ld %c", 42, "ab", 1.5, :long, 2**40, :int, "x".ord)
    assert_equal "42 ab 1.50 1099511627776 x", buf.read_string
    assert_equal buf.read_string.size, n
    # the same shape again (prepared once), and the fixed arguments alone
    snprintf.call(buf, 64, "%d %s %.2f %ld %c", 7, "c", 2.0, :long, 1, :int, 65)
    assert_equal "7 c 2.00 1 A", buf.read_string
    assert_equal 5, snprintf.call(buf, 64, "plain")
    # an Integer beyond int's range is passed as long long
    snprintf.call(buf, 64, "%lld", -(2**40))
    assert_equal((-(2**40)).to_s, buf.read_string)
    assert_raises(TypeError) { snprintf.call(buf, 64, "%d", Object.new) }
    assert_raises(ArgumentError) { snprintf.call(buf, 64, "%d", :int) }
    assert_raises(ArgumentError) { snprintf.call(buf, 64) }
  end

  class DivT < F::Struct
    layout :quot, :int, :rem, :int
  end

  class LDivT < F::Struct
    layout :quot, :long, :rem, :long
  end

  def test_struct_results_by_value
    r = libc.func(:div, DivT, %i[int int]).call(17, 5)
    assert_kind_of DivT, r
    assert_equal [3, 2], [r.quot, r.rem]
    assert_equal({ quot: -3, rem: -2 }, libc.func(:div, DivT, %i[int int]).call(-17, 5).to_h)
    r = libc.func(:ldiv, LDivT, %i[long long]).call(2**40 + 3, 2**20)
    assert_equal [2**20, 3], r.values
  end

  def test_out_pointer_strtol
    strtol = libc.func(:strtol, :long, %i[string pointer int])
    s = "123abc"
    endp = F::MemoryPointer.new(:pointer)
    assert_equal 123, strtol.call(s, endp, 10)
    assert_equal "abc", endp.read_pointer.read_string
    assert_equal(-255, strtol.call("-ff", nil, 16))
  end

  def test_errno_is_captured_per_call
    open = libc.func(:open, :int, %i[string int])
    F.errno = 0
    assert_equal(-1, open.call("/nonexistent-weft-dir/x", 0))
    assert_equal Errno::ENOENT::Errno, F.errno
    F.errno = 33
    libc.func(:abs, :int, [:int]).call(1) # leaves errno alone
    assert_equal 33, F.errno
    # another thread's is its own
    ::Thread.new { F.errno = 77 }.join
    assert_equal 33, F.errno
    quiet = libc.func(:open, :int, %i[string int], errno: false)
    F.errno = 0
    quiet.call("/nonexistent-weft-dir/x", 0)
    assert_equal 0, F.errno
  end

  def test_pointer_results_and_arguments
    malloc = libc.func(:malloc, :pointer, [:size_t])
    free = libc.func(:free, :void, [:pointer])
    memset = libc.func(:memset, :pointer, %i[pointer int size_t])
    p = malloc.call(16)
    refute p.null?
    assert_nil p.size # unknown: C's memory
    assert_equal p, memset.call(p, 0x41, 16)
    assert_equal "A" * 16, p.get_bytes(0, 16)
    assert_nil free.call(p)
    assert_nil free.call(nil) # NULL
    assert_equal 4, libc.func(:strlen, :size_t, [:pointer]).call(F::MemoryPointer.from_string("abcd"))
    assert_equal 3, libc.func(:strlen, :size_t, [:pointer]).call("xyz") # a String's bytes
    addr = F::MemoryPointer.from_string("12345")
    assert_equal 5, libc.func(:strlen, :size_t, [:pointer]).call(addr.address) # an Integer address
  end

  module LibC
    extend Weft::FFI::DSL
    ffi_lib "m", "c"
    attach_function :strlen, [:string], :size_t
    attach_function :c_abs, :abs, [:int], :int, errno: false
    attach_function :snprintf, [:pointer, :size_t, :string, :varargs], :int
    attach_function :cos, [:double], :double
  end

  def test_ruby_ffi_module_idiom
    assert_equal 3, LibC.strlen("abc")
    assert_equal 4, LibC.c_abs(-4)
    assert_equal 1.0, LibC.cos(0)
    buf = F::MemoryPointer.new(16)
    LibC.snprintf(buf, 16, "%d-%s", 1, "a")
    assert_equal "1-a", buf.read_string
    assert_raises(ArgumentError) { LibC.strlen }
    assert_raises(Errno::ENOENT) { LibC.attach_function(:no_such_function_here, [], :int) }
    assert_raises(ArgumentError) { LibC.attach_function(:"bad name", :abs, [:int], :int) }
  end

  # ---- bad input --------------------------------------------------------

  def test_bad_arguments_raise_and_name_the_argument
    abs = libc.func(:abs, :int, [:int])
    e = assert_raises(ArgumentError) { abs.call }
    assert_match(/given 0, expected 1/, e.message)
    assert_raises(ArgumentError) { abs.call(1, 2) }
    e = assert_raises(TypeError) { abs.call(1.5) }
    assert_match(/abs: argument 1 \(int\).*Float/, e.message)
    assert_raises(TypeError) { abs.call("1") }
    assert_raises(TypeError) { abs.call(nil) }
    e = assert_raises(RangeError) { abs.call(2**31) }
    assert_match(/out of range/, e.message)
    assert_raises(RangeError) { libc.func(:labs, :long, [:long]).call(2**64) }
    strlen = libc.func(:strlen, :size_t, [:string])
    assert_raises(TypeError) { strlen.call(12.5) }
    assert_raises(ArgumentError) { strlen.call("a\0b") }
    assert_raises(TypeError) { libm.func(:sqrt, :double, [:double]).call("2") }
    assert_raises(TypeError) { libc.func(:div, DivT, %i[int int]).call(1, nil) }
    assert_raises(TypeError) { libc.func(:free, :void, [:pointer]).call(Object.new) }
  end

  def test_bad_types_and_signatures
    e = assert_raises(TypeError) { libc.func(:abs, :no_such_type, [:int]) }
    assert_match(/no_such_type/, e.message)
    assert_raises(TypeError) { libc.func(:abs, :int, [Object]) }
    assert_raises(TypeError) { libc.func(:abs, :int, :int) }
    assert_raises(TypeError) { libc.func(42) }
    assert_raises(ArgumentError) { libc.func(:abs, :int) }
    assert_raises(ArgumentError) { libc.func(:printf, :int, %i[varargs string]) }
    assert_raises(Weft::ValueError) { libc.func(:abs, :int, [:void]) }
    e = assert_raises(Weft::ValueError) { libc.func("int abs(int") }
    assert_match(/column/, e.message)
    assert_raises(Weft::ValueError) { F::Callback.new("int(") { 0 } }
    assert_raises(ArgumentError) { F::Callback.new("int(int)") }
  end

  def test_signature_strings
    strlen = libc.func("size_t strlen(const char*)")
    assert_equal 5, strlen.call("hello")
    assert_equal "strlen", strlen.name
    abs = libc.func("int abs(int)")
    assert_equal 9, abs.(-9)
    assert_equal 2.0, libm.func("double sqrt(double)").call(4.0)
    e = assert_raises(Weft::ValueError) { libc.func("size_t strlen(const char*") }
    assert_match(/column 26/, e.message)
    assert_equal 26, e.detail
    # a code string, for a symbol named apart
    assert_equal 3, libc.func(:strlen, "L(z)").call("abc")
    assert_equal 7, libc.func(:labs, "l(l)", libffi: true).call(-7)
    # variadic: the fixed arguments typed, the rest by their class
    buf = F::MemoryPointer.new(32)
    libc.func("int snprintf(char*, size_t, const char*, ...)").call(buf, 32, "%s=%d", "x", 5)
    assert_equal "x=5", buf.read_string
    assert_raises(Weft::ValueError) { libc.func("L(z)") } # names no function
    assert_raises(Errno::ENOENT) { libc.func("int no_such_function_here(int)") }
    assert_raises(Weft::ValueError) { F::Callback.new("int(int, ...)") { 0 } }
  end

  # ---- memory -----------------------------------------------------------

  def test_memory_pointer_reads_and_writes_by_type
    mp = F::MemoryPointer.new(:int64, 4)
    assert_equal 32, mp.size
    assert mp.owned?
    mp.write_array_of_int64([1, -2, 2**62, -(2**63)])
    assert_equal [1, -2, 2**62, -(2**63)], mp.read_array_of_int64(4)
    mp.put_uint64(0, 2**64 - 1)
    assert_equal 2**64 - 1, mp.get_uint64(0)
    assert_equal(-1, mp.get_int64(0))
    mp.put(:double, 8, 2.5)
    assert_equal 2.5, mp.get(:double, 8)
    mp.put(:float, 16, 0.25)
    assert_equal 0.25, mp.get_float(16)
    mp.put(:uint8, 24, 255)
    assert_equal 255, mp.get_uint8(24)
    assert_equal(-1, mp.get_int8(24))
    mp.put(:bool, 25, true)
    assert_equal true, mp.get_bool(25)
    assert_raises(RangeError) { mp.put(:uint8, 0, 256) }
    assert_raises(TypeError) { mp.put(:int, 0, 1.5) }
    assert_raises(IndexError) { mp.get_int64(32) }
    assert_raises(IndexError) { mp.get_int(-1) }
    assert_raises(IndexError) { mp.put_bytes(30, "abc") }
    assert_raises(TypeError) { mp.put(:string, 0, "dangling") }
  end

  def test_bytes_and_strings
    mp = F::MemoryPointer.new(16)
    mp.put_bytes(0, "a\0b\0c")
    assert_equal "a\0b\0c", mp.get_bytes(0, 5)
    assert_equal "a", mp.read_string
    assert_equal "b", mp.get_string(2)
    assert_equal "a\0b", mp.read_string(3)
    mp.put_string(10, "hi")
    assert_equal "hi", (mp + 10).read_string
    assert_equal 6, (mp + 10).size
    assert_raises(IndexError) { mp + 17 }
    s = F::MemoryPointer.from_string("hello")
    assert_equal 6, s.size
    assert_equal "hello", s.read_string
    mp.put(:pointer, 0, s)
    assert_equal "hello", mp.get(:string, 0)
    assert_equal s, mp.read_pointer
  end

  def test_null_and_freed_memory_raise
    assert F::Pointer::NULL.null?
    assert_raises(Weft::ValueError) { F::Pointer::NULL.read_int }
    assert_raises(Weft::ValueError) { F::Pointer.new(0).read_string }
    mp = F::MemoryPointer.new(8)
    mp.free
    assert mp.null?
    assert_raises(Weft::StateError) { mp.free }
    assert_raises(Weft::StateError) { F::Pointer.new(4096).free }
    parent = F::MemoryPointer.new(16)
    inner = parent + 8
    view = F::Pointer.new(inner)
    parent.free
    assert_raises(Weft::StateError) { inner.read_int }
    assert_raises(Weft::StateError) { view.read_int }
    assert_raises(Weft::StateError) { libc.func(:strlen, :size_t, [:pointer]).call(inner) }
    assert_raises(TypeError) { F::Pointer.new("x") }
  end

  # ---- structs ----------------------------------------------------------

  class Point < F::Struct
    layout :x, :int, :y, :double, :bits, bits(:uint, 3), :name, [:char, 8]
  end

  def test_struct_fields_accessors_and_layout
    assert_equal 32, Point.size
    assert_equal 8, Point.alignment
    assert_equal [[:x, 0], [:y, 8], [:bits, 16], [:name, 17]], Point.offsets
    assert_equal({ offset: 16, unit: 4, bit_offset: 0, bits: 3 }, Point.field_layout(:bits))
    pt = Point.new(x: -7, y: 2.5)
    pt.bits = 5
    pt[:name] = "abc"
    assert_equal [-7, 2.5, 5, "abc"], [pt.x, pt[:y], pt.bits, pt.name]
    pt.bits = 9 # keeps the low 3 bits, as C's assignment does
    assert_equal 1, pt.bits
    assert_equal(-7, pt.x) # the neighbours are untouched
    assert_equal "abc", pt.name
    assert_raises(IndexError) { pt.name = "123456789" }
    assert_raises(ArgumentError) { pt[:nope] }
    assert_raises(TypeError) { pt.x = "1" }
    assert_raises(RangeError) { pt.x = 2**31 }
    assert_equal %i[x y bits name], pt.members
  end

  # struct A { char a; int b:3; int c:30; short d; };   gcc: 12, 4, d@8
  class GccA < F::Struct
    layout :a, :char, :b, bits(:int, 3), :c, bits(:int, 30), :d, :short
  end

  # #pragma pack(1) struct B { char a; int b:3; int c:30; };   gcc: 6, 1
  class GccB < F::Struct
    layout :a, :char, :b, bits(:int, 3), :c, bits(:int, 30)
    pack 1 # before or after the layout: the type is built on first use
  end

  # struct __attribute__((ms_struct)) C { char a:3; int b:4; char c; };
  # gcc: 12, 4, c@8
  class GccC < F::Struct
    ms_layout
    layout :a, bits(:char, 3), :b, bits(:int, 4), :c, :char
  end

  # struct __attribute__((aligned(16))) D { char x; };   gcc: 16, 16
  class GccD < F::Struct
    align 16
    layout :x, :char
  end

  def test_layouts_match_gcc
    assert_equal [12, 4, 8], [GccA.size, GccA.alignment, GccA.offset_of(:d)]
    assert_equal({ offset: 4, unit: 4, bit_offset: 0, bits: 30 }, GccA.field_layout(:c))
    assert_equal [6, 1], [GccB.size, GccB.alignment]
    assert_equal [12, 4, 8], [GccC.size, GccC.alignment, GccC.offset_of(:c)]
    assert_equal [16, 16], [GccD.size, GccD.alignment]
    # the bytes gcc writes for a.c = -1 and (packed) b.c = -1
    a = GccA.new(c: -1)
    assert_equal "\x00\x00\x00\x00\xff\xff\xff\x3f\x00\x00\x00\x00".b, a.to_ptr.get_bytes(0, 12)
    assert_equal(-1, a.c)
    b = GccB.new(c: -1)
    assert_equal "\x00\xf8\xff\xff\xff\x01".b, b.to_ptr.get_bytes(0, 6)
    assert_equal(-1, b.c)
    b.b = -2
    assert_equal [-2, -1, 0], [b.b, b.c, b.a]
  end

  # struct S { unsigned a:3, b:5, c:8; } and its big-endian twin
  class BitsLE < F::Struct
    layout :a, bits(:uint, 3), :b, bits(:uint, 5), :c, bits(:uint, 8)
  end

  class BitsBE < F::Struct
    big_endian
    layout :a, bits(:uint, 3), :b, bits(:uint, 5), :c, bits(:uint, 8)
  end

  def test_bitfields_round_trip_in_both_byte_orders
    le = BitsLE.new(a: 5, b: 17, c: 0xAB)
    assert_equal "\x8d\xab\x00\x00".b, le.to_ptr.get_bytes(0, 4) # as gcc stores it
    be = BitsBE.new(a: 5, b: 17, c: 0xAB)
    assert_equal "\xb1\xab\x00\x00".b, be.to_ptr.get_bytes(0, 4) # scalar_storage_order
    [le, be].each do |s|
      assert_equal [5, 17, 0xAB], s.values
      s.b = 0
      assert_equal [5, 0, 0xAB], s.values
      s.c = 0x1FF
      assert_equal 0xFF, s.c
    end
  end

  class Scalars < F::Struct
    big_endian
    layout :i, :int, :u, :uint64, :f, :float, :d, :double, :ok, :bool, :p, :pointer, :s, :string
  end

  def test_every_scalar_field_sort_big_endian
    s = Scalars.new
    s.i = -2
    s.u = 2**64 - 2
    s.f = 0.5
    s.d = -1.25
    s.ok = true
    s[:p] = F::Pointer.new(0x1234) # (no #p accessor: Kernel#p stays)
    s.s = "kept alive"
    GC.start
    assert_equal [-2, 2**64 - 2, 0.5, -1.25, true, 0x1234, "kept alive"],
                 [s.i, s.u, s.f, s.d, s.ok, s[:p].address, s.s]
    assert_equal "\xff\xff\xff\xfe".b, s.to_ptr.get_bytes(0, 4)
    s.s = nil
    assert_nil s.s
    assert_raises(TypeError) { s.p = "no" } # the setter is there
  end

  class BEArrays < F::Struct
    big_endian
    layout :n, [:uint16, 2], :d, [:double, 1], :raw, [:uint8, 2]
  end

  def test_arrays_in_a_big_endian_struct
    s = BEArrays.new(n: [0x0102, 0xA0B0], d: [1.0], raw: [1, 2])
    assert_equal "\x01\x02\xa0\xb0".b, s.to_ptr.get_bytes(0, 4)
    assert_equal "\x3f\xf0".b, s.to_ptr.get_bytes(8, 2)
    assert_equal [[0x0102, 0xA0B0], [1.0], [1, 2]], s.values
  end

  class Node < F::Struct
    layout :value, :int, :next, :pointer
  end

  def test_struct_pointers_as_types
    strchr_like = F::Callback.new(Node.ptr, [Node.ptr]) { |n| n }
    a = Node.new(value: 1)
    b = Node.new(value: 2)
    a[:next] = b
    got = strchr_like.function.call(a)
    assert_kind_of Node, got # an instance over a's memory
    assert_equal a.to_ptr, got.to_ptr
    assert_equal 2, Node.new(got[:next])[:value]
    assert_nil strchr_like.function.call(nil)
  end

  class Inner < F::Struct
    layout :a, :short, :b, :short
  end

  class Outer < F::Struct
    layout :tag, :char, :in, Inner, :arr, [:int, 3], :ins, [Inner, 2]
  end

  class IntOrDouble < F::Union
    layout :i, :int64, :d, :double, :bytes, [:uchar, 8]
  end

  def test_nested_structs_arrays_and_unions
    # struct Outer { char tag; struct Inner in; int arr[3]; struct Inner ins[2]; }
    assert_equal [2, 8, 20, 28, 4], [Outer.offset_of(:in), Outer.offset_of(:arr), Outer.offset_of(:ins), Outer.size, Outer.alignment]
    o = Outer.new(tag: 1, in: { a: 2, b: 3 }, arr: [4, 5, 6])
    assert_equal 3, o.in.b
    o.in.a = 20 # a view into o's memory
    assert_equal 20, o[:in][:a]
    assert_equal [4, 5, 6], o.arr
    assert_equal [0, 0], o.ins.map(&:a)
    o.in = Inner.new(a: 7, b: 8)
    assert_equal [7, 8], o.in.values
    assert_raises(IndexError) { o.arr = [1, 2, 3, 4] }
    assert_raises(TypeError) { o.in = 5 }
    assert_equal [8, 0], [IntOrDouble.size, IntOrDouble.offset_of(:d)]
    u = IntOrDouble.new(d: 1.0)
    assert_equal 0x3FF0000000000000, u.i
    assert_equal [0, 0, 0, 0, 0, 0, 0xF0, 0x3F], u.bytes
  end

  def test_structs_by_pointer_and_over_memory
    pt = Point.new(x: 1)
    libc.func(:memset, :pointer, %i[pointer int size_t]).call(pt, 0xff, 4)
    assert_equal(-1, pt.x)
    view = Point.new(pt.to_ptr)
    view.x = 5
    assert_equal 5, pt.x
    assert_raises(IndexError) { Point.new(F::MemoryPointer.new(4)) }
    assert_raises(Weft::ValueError) { Point.new(F::Pointer::NULL) }
    assert_raises(TypeError) { Point.new(42) }
    assert_equal pt, Point.new(pt.to_ptr)
    assert_raises(Weft::StateError) { Point.pack(2) }
    assert_raises(Weft::StateError) { Point.layout(:z, :int) }
  end

  # ---- callbacks --------------------------------------------------------

  def qsort(blocking: false)
    libc.func(:qsort, :void, %i[pointer size_t size_t pointer], blocking: blocking)
  end

  def ints(values)
    F::MemoryPointer.new(:int, values.size).write_array_of_int(values)
  end

  def test_qsort_with_a_callback
    calls = 0
    cmp = F::Callback.new("int(const void*, const void*)") do |a, b|
      calls += 1
      assert_equal ::Thread.current, ::Thread.main
      a.read_int <=> b.read_int
    end
    arr = ints([5, 3, 9, -1, 2])
    qsort.call(arr, 5, 4, cmp)
    assert_equal [-1, 2, 3, 5, 9], arr.read_array_of_int(5)
    assert_operator calls, :>, 0
    desc = F::Callback.new(:int, %i[pointer pointer]) { |a, b| b.read_int <=> a.read_int }
    qsort(blocking: true).call(arr, 5, 4, desc) # the block runs after taking the GVL back
    assert_equal [9, 5, 3, 2, -1], arr.read_array_of_int(5)
  end

  def test_callback_exception_is_raised_by_the_call
    cmp = F::Callback.new(:int, %i[pointer pointer]) { raise IOError, "from the block" }
    e = assert_raises(IOError) { qsort.call(ints([2, 1]), 2, 4, cmp) }
    assert_equal "from the block", e.message
    bad = F::Callback.new(:int, %i[pointer pointer]) { "not an int" }
    assert_raises(TypeError) { qsort.call(ints([2, 1]), 2, 4, bad) }
    big = F::Callback.new(:int, %i[pointer pointer]) { 2**40 }
    assert_raises(RangeError) { qsort(blocking: true).call(ints([2, 1]), 2, 4, big) }
    # the next call is clean
    ok = F::Callback.new(:int, %i[pointer pointer]) { |a, b| a.read_int <=> b.read_int }
    arr = ints([2, 1])
    qsort.call(arr, 2, 4, ok)
    assert_equal [1, 2], arr.read_array_of_int(2)
  end

  def weft_lib
    @weft_lib ||= F.load("libweft.so.0")
  end

  # A weft thread, which Ruby does not know, whose target is the closure:
  # the call goes through the binding's dispatcher thread.
  def foreign_thread(callback, arg)
    thread_new = weft_lib.func(:weft_thread_new, :int, %i[pointer pointer string pointer])
    out = F::MemoryPointer.new(:int64)
    assert_equal 0, thread_new.call(callback, arg, "ffi-foreign", out)
    t = Weft::Thread.wrap(out.read_int64, own: true)
    Weft::Native.thread_start(t.handle)
    assert t.join(30)
    t
  end

  def test_callback_from_a_thread_ruby_does_not_know
    ran_on = nil
    cb = F::Callback.new(:int, [:pointer]) do |arg|
      ran_on = ::Thread.current.name
      arg.address + 1
    end
    t = foreign_thread(cb, 41)
    assert_equal 42, t.result
    assert_equal "weft-dispatcher", ran_on
  end

  def test_one_callback_from_many_foreign_threads_at_once
    thread_new = weft_lib.func(:weft_thread_new, :int, %i[pointer pointer string pointer])
    seen = Queue.new
    cb = F::Callback.new(:int, [:pointer]) do |arg|
      seen << arg.address
      arg.address * 3
    end
    threads = (1..8).map do |i|
      out = F::MemoryPointer.new(:int64)
      assert_equal 0, thread_new.call(cb, i, "ffi-foreign-#{i}", out)
      Weft::Thread.wrap(out.read_int64, own: true)
    end
    threads.each { |t| Weft::Native.thread_start(t.handle) }
    threads.each { |t| assert t.join(30) }
    assert_equal (1..8).map { |i| i * 3 }, threads.map(&:result)
    assert_equal (1..8).to_a, Array.new(8) { seen.pop }.sort
  end

  def test_callback_exception_on_a_foreign_thread_is_reported
    cb = F::Callback.new(:int, [:pointer]) { raise IOError, "foreign failure" }
    t = nil
    err = capture_stderr { t = foreign_thread(cb, nil) }
    assert_equal 0, t.result # C got zeros
    assert_match(/ffi callback terminated with exception/, err)
    assert_includes err, "foreign failure"
  end

  def test_pthread_create_and_a_blocking_join
    # From the process's namespace, as a C program would call them: a
    # sanitizer's runtime, when preloaded, must see the thread start and
    # end (libc's own, looked up in libc, bypass it).
    pthread_create = F.load(nil).func(:pthread_create, :int, %i[pointer pointer pointer pointer])
    pthread_join = F.load(nil).func(:pthread_join, :int, %i[pointer pointer], blocking: true)
    seen = nil
    start = F::Callback.new(:pointer, [:pointer]) do |arg|
      seen = ::Thread.current.name
      F::Pointer.new(arg.address * 2)
    end
    tid = F::MemoryPointer.new(:pointer)
    assert_equal 0, pthread_create.call(tid, nil, start, 21)
    res = F::MemoryPointer.new(:pointer)
    assert_equal 0, pthread_join.call(tid.read_pointer, res)
    assert_equal 42, res.read_pointer.address
    assert_equal "weft-dispatcher", seen
  end

  class Pair < F::Struct
    layout :a, :int, :b, :double
  end

  class Big < F::Struct
    layout :v, [:int64, 5], :tag, :char
  end

  # Structs by value both ways, in a call's arguments and result and in a
  # callback's, through C (the closure's own function pointer).
  def test_structs_by_value_through_a_callback
    swap = F::Callback.new(Pair, [Pair, :int]) do |pr, k|
      assert_kind_of Pair, pr
      Pair.new(a: (pr.b * k).to_i, b: pr.a.to_f / k)
    end
    fn = swap.function
    r = fn.call(Pair.new(a: 3, b: 2.5), 2)
    assert_kind_of Pair, r
    assert_equal [5, 1.5], r.values
    sum = F::Callback.new(Big, [Big]) do |big|
      Big.new(v: big.v.map { |x| x * 2 }, tag: big.tag + 1)
    end
    r = sum.function(blocking: true).call(Big.new(v: [1, 2, 3, 4, 2**40], tag: 7))
    assert_equal [[2, 4, 6, 8, 2**41], 8], r.values
    assert_raises(TypeError) { fn.call(Big.new, 1) }
    assert_raises(TypeError) { F::Callback.new("int(int)") { 0 }.function.call(nil) }
    bad = F::Callback.new(Pair, [Pair, :int]) { 42 }
    assert_raises(TypeError) { bad.function.call(Pair.new, 1) }
  end

  def test_callback_scalar_round_trips
    through = ->(ret, args, *vals, &blk) { F::Callback.new(ret, args, &blk).function.call(*vals) }
    assert_equal 6.75, through.(:double, %i[float double long_double], 1.5, 2.25, 3) { |a, b, c| a + b + c }
    assert_equal true, through.(:bool, [:bool], false) { |b| !b }
    assert_equal 2**64 - 1, through.(:uint64, [:uint64], 2**64 - 1) { |v| v }
    assert_equal(-128, through.(:int8, [:int8], -128) { |v| v })
    assert_equal 64_999, through.(:uint16, %i[uint16 int16], 65_000, -1) { |a, b| a + b }
    assert_equal 2.5, through.(:long_double, [:long_double], 1.25) { |v| v * 2 }
    # more arguments than registers: the stack, and libffi's path
    assert_equal 36.5, through.(:float, [:int] * 8 + [:double], *1..8, 0.5) { |*a| a.sum }
    assert_equal "str", through.(:string, [:string], "str") { |s| F::MemoryPointer.from_string(s.upcase).then { |m| @keep = m } }.downcase
    assert_raises(RangeError) { through.(:int8, [:int8], 1) { 300 } }
    assert_raises(RangeError) { through.(:int, [:int], 2**40) { 0 } }
    assert_raises(TypeError) { through.(:string, []) { "would dangle" } }
    assert_raises(TypeError) { F::Callback.new(:int, [:varargs]) { 0 } }
  end

  def test_bad_struct_layouts
    size_of = ->(&blk) { Class.new(F::Struct, &blk).size }
    assert_raises(Weft::ValueError) { size_of.() { layout :a, bits(:int, 33) } }
    assert_raises(Weft::ValueError) { size_of.() { layout :a, bits(:double, 3) } }
    assert_raises(Weft::ValueError) { size_of.() { layout :a, bits(:int, 0) } } # named zero-width
    assert_raises(Weft::ValueError) { size_of.() { layout :a, :int, :a, :int } }
    assert_raises(Weft::ValueError) { size_of.() { layout :a, :void } }
    assert_raises(Weft::ValueError) { size_of.() { pack 3; layout :a, :int } }
    assert_raises(Weft::ValueError) { size_of.() { align 3; layout :a, :int } }
    assert_raises(TypeError) { size_of.() { layout :a, :no_such_type } }
    assert_raises(TypeError) { size_of.() { layout :a, [:int] } }
    assert_raises(ArgumentError) { size_of.() { layout :a } }
    assert_raises(Weft::StateError) { size_of.() {} }
    assert_equal 0, size_of.() { layout nil, bits(:int, 0) } # struct { int : 0; }
  end

  def test_bad_handles_and_objects_never_crash
    assert_raises(Weft::StateError) { F::Function.allocate.call }
    assert_raises(Weft::ClosedError) { F::Library.allocate.symbol("abs") }
    assert_raises(Weft::ClosedError) { F::Callback.allocate.to_ptr }
    assert_raises(Weft::ValueError) { F::Pointer.allocate.read_int }
    assert_raises(Weft::BadHandleError) { F::Raw.field_get(12_345, 0, F::MemoryPointer.new(4), 0) }
    assert_raises(TypeError) { F::Raw.layout_new(1, 5) }
    assert_raises(TypeError) { F::Raw.define_accessor(5, :x) }
    assert_raises(TypeError) { F::Raw.function_new(0, 0, 5, 0, 0, 0) }
    assert_raises(TypeError) { F::Pointer.new(16).__get(999, 0) }
    assert_raises(TypeError) { Class.new(F::Struct) { layout :a, :int }.allocate[:a] }
    assert_raises(RuntimeError) { F.load("c").send(:__open, "c", 0) }
    assert_raises(TypeError) { F.load(42) }
    assert_raises(TypeError) { F.load("c", :now) }
  end

  def test_freed_callback
    before = F::Raw.callback_count
    cb = F::Callback.new(:void, []) { nil }
    assert_equal before + 1, F::Raw.callback_count
    refute cb.freed?
    cb.free
    assert cb.freed?
    assert_equal before, F::Raw.callback_count
    assert_raises(Weft::ClosedError) { cb.to_ptr }
    assert_raises(Weft::ClosedError) { cb.free }
    assert_raises(Weft::ClosedError) { qsort.call(ints([1]), 1, 4, cb) }
  end

  # ---- the GVL ----------------------------------------------------------

  # A blocking pipe of libc's own (Ruby's IO.pipe is non-blocking).
  def c_pipe
    fds = F::MemoryPointer.new(:int, 2)
    assert_equal 0, libc.func(:pipe, :int, [:pointer]).call(fds)
    fds.read_array_of_int(2)
  end

  def test_blocking_call_lets_other_threads_run
    read = libc.func(:read, :ssize_t, %i[int pointer size_t], blocking: true)
    write = libc.func(:write, :ssize_t, %i[int pointer size_t])
    r, w = c_pipe
    writer = ::Thread.new do
      sleep 0.05
      write.call(w, "x", 1) # needs the GVL while the main thread waits in read(2)
    end
    buf = F::MemoryPointer.new(1)
    assert_equal 1, read.call(r, buf, 1)
    assert_equal "x", buf.read_bytes(1)
    assert_equal 1, writer.value
  ensure
    close_fds(r, w)
  end

  def close_fds(*fds)
    close = libc.func(:close, :int, [:int])
    fds.compact.each { |fd| close.call(fd) }
  end

  def test_blocking_call_is_interruptible
    read = libc.func(:read, :ssize_t, %i[int pointer size_t], blocking: true)
    r, w = c_pipe
    buf = F::MemoryPointer.new(1)
    reader = ::Thread.new { read.call(r, buf, 1) }
    wait_blocked(reader)
    reader.kill
    assert reader.join(30), "Thread#kill ended the blocked read(2)"
  ensure
    close_fds(r, w)
  end
end
