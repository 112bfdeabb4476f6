-- weft.ffi: libraries, functions, structs, memory and callbacks over the
-- ctypes engine.  Layouts are checked against what gcc lays out for the
-- same declarations (the expected bytes were printed by gcc-compiled C,
-- declarations quoted beside them).
require "busted.runner"({output = "TAP"})

local weft = require "weft"
local helper = require "helper"
local ffi = weft.ffi

local libc = ffi.load("c")
local libm = ffi.load("m")

-- The bytes of cdata x as a list of numbers.
local function bytes(x)
  return {ffi.string(x, ffi.sizeof(x)):byte(1, -1)}
end

describe("weft.ffi", function()
  it("is weft.ffi and require 'weft.ffi'", function()
    assert.are.equal(require "weft.ffi", weft.ffi)
  end)
end)

describe("a library", function()
  it("loads by short name, file name or path", function()
    assert.matches("libc%.so%.6", tostring(libc))
    local byname = ffi.load("libc.so.6")
    assert.are.equal(5, byname:func("strlen", "size_t", {"const char*"})("hello"))
    byname:close()
  end)

  it("of the process is ffi.C", function()
    assert.are.equal(ffi.C, ffi.C)
    assert.matches("process", tostring(ffi.load()))
    local strlen = ffi.C:func("strlen", "size_t", {"const char*"})
    assert.are.equal(3, strlen("abc"))
  end)

  it("that does not exist is WEFT_EFFI with dlerror's text", function()
    local err = helper.weft_error("WEFT_EFFI", ffi.load, "/nonexistent/libnope.so")
    assert.matches("libnope", err.message)
    helper.weft_error("WEFT_EFFI", ffi.load, "no_such_library_xyz")
    helper.weft_error("WEFT_EVALUE", ffi.load, "")
  end)

  it("without the symbol is ENOENT", function()
    local err = helper.weft_error("ENOENT", libc.func, libc, "no_such_function_x",
                                  "int", {})
    assert.matches("no_such_function_x", err.message)
    helper.weft_error("ENOENT", libc.symbol, libc, "no_such_function_x")
  end)

  it("gives symbols as pointers", function()
    local p = libc:symbol("strlen")
    assert.is_true(ffi.address(p) ~= 0)
    local strlen = ffi.func(p, "size_t", {"const char*"})
    assert.are.equal(4, strlen("four"))
    -- a function is a Lua function, and its address as a pointer
    assert.are.equal("function", type(strlen))
    assert.are.equal(ffi.address(p), ffi.address(strlen))
    assert.are.equal(2, ffi.func(strlen, "size_t", {"const char*"})("ab"))
  end)

  it("once closed refuses new functions and calls of old ones", function()
    local lib = ffi.load("c")
    local abs = lib:func("abs", "int", {"int"})
    assert.are.equal(3, abs(-3))
    lib:close()
    helper.weft_error("WEFT_EBADHANDLE", lib.func, lib, "abs", "int", {"int"})
    helper.weft_error("WEFT_EBADHANDLE", lib.symbol, lib, "abs")
    local err = helper.weft_error("WEFT_EBADHANDLE", abs, -3)
    assert.matches("closed", err.message)
    lib:close() -- twice is fine
  end)
end)

describe("a function", function()
  it("converts integers, floats and strings", function()
    local abs = libc:func("abs", "int", {"int"})
    local labs = libc:func("labs", "long", {"long"})
    local sqrt = libm:func("sqrt", "double", {"double"})
    local pow = libm:func("pow", "double", {"double", "double"})
    local strlen = libc:func("strlen", "size_t", {"const char *"})
    assert.are.equal(5, abs(-5))
    assert.are.equal(math.maxinteger, labs(-math.maxinteger))
    assert.are.equal("integer", math.type(abs(-5)))
    assert.are.equal(math.sqrt(2), sqrt(2))
    assert.are.equal(1024.0, pow(2, 10))
    assert.are.equal(11, strlen("hello world"))
    assert.are.equal(0, strlen(""))
  end)

  it("gives unsigned 64-bit results as their bit pattern", function()
    local strtoull = libc:func("strtoull", "unsigned long long",
                               {"const char*", "void*", "int"})
    assert.are.equal(-1, strtoull("18446744073709551615", nil, 10))
    assert.are.equal(math.mininteger, strtoull("9223372036854775808", nil, 10))
  end)

  it("gives the same results on the fast path and through libffi", function()
    local fast = libm:func("pow", "double", {"double", "double"})
    local slow = libm:func("pow", "double", {"double", "double"}, {libffi = true})
    local absf = libc:func("abs", "int", {"int"})
    local abss = libc:func("abs", "int", {"int"}, {libffi = true})
    for _, x in ipairs{-7, 0, 3, math.mininteger + 1 & 0x7fffffff} do
      assert.are.equal(absf(x), abss(x))
    end
    assert.are.equal(fast(1.5, 3), slow(1.5, 3))
  end)

  it("returns char* as a string or nil, other pointers as cdata", function()
    local strchr = libc:func("strchr", "char*", {"const char*", "int"})
    assert.are.equal("llo", strchr("hello", string.byte("l")))
    assert.is_nil(strchr("hello", string.byte("z")))
    local getenv = libc:func("getenv", "char*", {"const char*"})
    assert.is_nil(getenv("WEFT_NO_SUCH_VARIABLE_X"))
    local memchr = libc:func("memchr", "void*", {"const void*", "int", "size_t"})
    local s = "abcdef"
    local p = memchr(s, string.byte("d"), #s)
    assert.are.equal("de", ffi.string(p, 2))
    assert.are.equal(3, ffi.address(p) - ffi.address(s))
    assert.is_nil(memchr(s, string.byte("z"), #s))
  end)

  it("calls variadic functions with a shape per call", function()
    local snprintf = libc:func("snprintf", "int",
                               {"char*", "size_t", "const char*", "..."})
    local buf = ffi.new("char[64]")
    assert.are.equal(11, snprintf(buf, 64, "%d-%s-%.2f", 42, "abc", 2.5))
    assert.are.equal("42-abc-2.50", ffi.string(buf))
    assert.are.equal(2, snprintf(buf, 64, "%s", "hi"))
    assert.are.equal("hi", ffi.string(buf))
    assert.are.equal(19, snprintf(buf, 64, "%lld", math.maxinteger))
    assert.are.equal(tostring(math.maxinteger), ffi.string(buf))
    assert.are.equal(3, snprintf(buf, 64, "abc"))
  end)

  it("returns a struct by value and takes one", function()
    local div_t = ffi.struct{{"quot", "int"}, {"rem", "int"}}
    local div = libc:func("div", div_t, {"int", "int"})
    local r = div(17, 5)
    assert.are.equal(3, r.quot)
    assert.are.equal(2, r.rem)
    assert.is_true(ffi.istype(div_t, r))
    -- char *inet_ntoa(struct in_addr): four bytes by value
    local in_addr = ffi.struct{{"s_addr", "uint32_t"}}
    local inet_ntoa = libc:func("inet_ntoa", "char*", {in_addr})
    local a = in_addr()
    ffi.copy(a, "\127\0\0\1", 4)
    assert.are.equal("127.0.0.1", inet_ntoa(a))
    assert.are.equal("10.0.0.2", inet_ntoa({s_addr = 0x0200000a}))
    assert.are.equal("127.0.0.1", inet_ntoa(ffi.addressof(a))) -- through a pointer
    helper.weft_error("WEFT_EVALUE", inet_ntoa, ffi.cast("double*", 8))
    helper.weft_error("WEFT_EVALUE", inet_ntoa, ffi.cast(ffi.pointer(in_addr), 0))
  end)

  it("writes through out-pointers", function()
    local strtol = libc:func("strtol", "long", {"const char*", "char**", "int"})
    local endp = ffi.new("char*")
    assert.are.equal(123, strtol("123abc", endp, 10))
    assert.are.equal("abc", endp[0])
    local s = "  -42 rest"
    local endv = ffi.new("void*")
    local strtol_v = libc:func("strtol", "long", {"const char*", "void*", "int"})
    assert.are.equal(-42, strtol_v(s, endv, 10))
    assert.are.equal(5, ffi.address(endv[0]) - ffi.address(s))
  end)

  it("captures errno with use_errno", function()
    local close = libc:func("close", "int", {"int"}, {use_errno = true})
    ffi.errno(0)
    assert.are.equal(-1, close(-1))
    assert.are.equal(weft.constants.EBADF, ffi.errno())
    assert.are.equal(weft.constants.EBADF, ffi.errno(0))
    assert.are.equal(0, ffi.errno())
    local lib = ffi.load("c", {use_errno = true})
    local strtol = lib:func("strtol", "long", {"const char*", "void*", "int"})
    assert.are.equal(math.maxinteger, strtol("99999999999999999999", nil, 10))
    assert.are.equal(weft.constants.ERANGE, ffi.errno())
  end)

  it("refuses a wrong number of arguments", function()
    local abs = libc:func("abs", "int", {"int"})
    local err = helper.weft_error("WEFT_EVALUE", abs)
    assert.matches("abs: 1 argument expected, got 0", err.message, 1, true)
    helper.weft_error("WEFT_EVALUE", abs, 1, 2)
    local snprintf = libc:func("snprintf", "int",
                               {"char*", "size_t", "const char*", "..."})
    err = helper.weft_error("WEFT_EVALUE", snprintf, nil)
    assert.matches("at least 3", err.message)
  end)

  it("refuses arguments of the wrong type", function()
    local abs = libc:func("abs", "int", {"int"})
    local err = helper.weft_error("WEFT_EVALUE", abs, "x")
    assert.matches("abs: argument 1: integer expected, got string", err.message,
                   1, true)
    helper.weft_error("WEFT_EVALUE", abs, {})
    local strlen = libc:func("strlen", "size_t", {"const char*"})
    err = helper.weft_error("WEFT_EVALUE", strlen, {})
    assert.matches("pointer expected, got table", err.message)
    local sqrt = libm:func("sqrt", "double", {"double"})
    helper.weft_error("WEFT_EVALUE", sqrt, "2")
    local div_t = ffi.struct{{"quot", "int"}, {"rem", "int"}}
    local div = libc:func("div", div_t, {"int", "int"})
    helper.weft_error("WEFT_EVALUE", div, 1, nil)
  end)

  it("refuses unknown types and a void argument", function()
    local err = helper.weft_error("WEFT_EVALUE", libc.func, libc, "abs", "int",
                                  {"integer"})
    assert.matches("unknown type 'integer'", err.message, 1, true)
    helper.weft_error("WEFT_EVALUE", libc.func, libc, "abs", "int", {"void"})
    helper.weft_error("WEFT_EVALUE", libc.func, libc, "abs")
    helper.weft_error("WEFT_EVALUE", ffi.func, nil, "int", {})
  end)
end)

describe("a signature string", function()
  it("declares a function in one line", function()
    local strlen = libc:func("size_t strlen(const char*)")
    assert.are.equal(5, strlen("hello"))
    assert.are.equal("function", type(strlen))
    local pow = libm:func("double pow(double, double)")
    assert.are.equal(8.0, pow(2, 3))
    local abs = ffi.func(libc:symbol("abs"), "int (int)")
    assert.are.equal(9, abs(-9))
  end)

  it("with ... is variadic", function()
    local snprintf = libc:func("int snprintf(char *, size_t, const char *, ...)")
    local buf = ffi.new("char[32]")
    assert.are.equal(5, snprintf(buf, 32, "%d+%d", 12, 34))
    assert.are.equal("12+34", ffi.string(buf))
  end)

  it("that is malformed gives the column", function()
    local err = helper.weft_error("WEFT_EVALUE", libc.func, libc, "int abs(int")
    assert.matches("column %d+", err.message)
    helper.weft_error("WEFT_EVALUE", libc.func, libc, "int abs(frob)")
    helper.weft_error("ENOENT", libc.func, libc, "int no_such_function_x(int)")
  end)
end)

describe("a struct", function()
  it("lays out bitfields as gcc does", function()
    -- struct { unsigned a:3; int b:5; char c; }: 237 65 0 0
    local S = ffi.struct{{"a", "unsigned int", 3}, {"b", "int", 5}, {"c", "char"}}
    assert.are.equal(4, ffi.sizeof(S))
    assert.are.equal(4, ffi.alignof(S))
    local s = S()
    s.a, s.b, s.c = 5, -3, 65
    assert.are.same({237, 65, 0, 0}, bytes(s))
    assert.are.equal(5, s.a)
    assert.are.equal(-3, s.b)
    assert.are.equal(65, s.c)
    s.a = 9 -- keeps the low 3 bits, as C does
    assert.are.equal(1, s.a)
    assert.are.equal(-3, s.b)
    local off, bit, bits = ffi.offsetof(S, "b")
    assert.are.same({0, 3, 5}, {off, bit, bits})
    assert.are.equal(1, ffi.offsetof(S, "c"))
  end)

  it("lays out a straddling bitfield and wide ones as gcc does", function()
    -- struct { char a; long long b:20; char c; short d:3; }:
    -- size 8, align 8, c at 4; a=1 b=-2 c=3 d=-1: 1 254 255 15 3 7 0 0
    local S = ffi.struct{{"a", "char"}, {"b", "long long", 20}, {"c", "char"},
                         {"d", "short", 3}}
    assert.are.equal(8, ffi.sizeof(S))
    assert.are.equal(8, ffi.alignof(S))
    assert.are.equal(4, ffi.offsetof(S, "c"))
    local s = S{a = 1, b = -2, c = 3, d = -1}
    assert.are.same({1, 254, 255, 15, 3, 7, 0, 0}, bytes(s))
    assert.are.same({1, -2, 3, -1}, {s.a, s.b, s.c, s.d})
  end)

  it("with pack, under gcc rules, packs bitfields across boundaries", function()
    -- #pragma pack(1) struct { char a; int b; }: size 5, b at 1
    local P = ffi.struct{{"a", "char"}, {"b", "int"}, pack = 1}
    assert.are.equal(5, ffi.sizeof(P))
    assert.are.equal(1, ffi.offsetof(P, "b"))
    assert.are.equal(1, ffi.alignof(P))
    local p = P{1, -2}
    assert.are.equal(-2, p.b)
    -- #pragma pack(1) struct { char a; unsigned b:12, c:12; }:
    -- a=1 b=0xabc c=0x123: 1 188 58 18
    local Q = ffi.struct{{"a", "char"}, {"b", "unsigned", 12},
                         {"c", "unsigned", 12}, pack = 1}
    local q = Q{a = 1, b = 0xabc, c = 0x123}
    assert.are.equal(4, ffi.sizeof(Q))
    assert.are.same({1, 188, 58, 18}, bytes(q))
    assert.are.same({0xabc, 0x123}, {q.b, q.c})
  end)

  it("follows MS rules with layout = 'ms'", function()
    -- struct { char a:4; int b:4; }: gcc 83 0 0 0; ms_struct 3 0 0 0 5 0 0 0
    local G = ffi.struct{{"a", "char", 4}, {"b", "int", 4}}
    local M = ffi.struct{{"a", "char", 4}, {"b", "int", 4}, layout = "ms"}
    local g, m = G{3, 5}, M{3, 5}
    assert.are.same({83, 0, 0, 0}, bytes(g))
    assert.are.same({3, 0, 0, 0, 5, 0, 0, 0}, bytes(m))
    assert.are.same({3, 5}, {m.a, m.b})
  end)

  it("takes an alignment and a byte order", function()
    -- struct __attribute__((aligned(16))) { char a; }: size 16, align 16
    local A = ffi.struct{{"a", "char"}, align = 16}
    assert.are.equal(16, ffi.sizeof(A))
    assert.are.equal(16, ffi.alignof(A))
    assert.are.equal(0, ffi.address(A()) % 16)
    -- scalar_storage_order("big-endian") struct { uint16_t x;
    -- unsigned a:4, b:4; }: x=0x0102 a=1 b=2: 1 2 18 0
    local B = ffi.struct{{"x", "uint16_t"}, {"a", "unsigned", 4},
                         {"b", "unsigned", 4}, endian = "big"}
    local b = B{x = 0x0102, a = 1, b = 2}
    assert.are.same({1, 2, 18, 0}, bytes(b))
    assert.are.same({0x0102, 1, 2}, {b.x, b.a, b.b})
  end)

  it("nests structs, arrays and pointers", function()
    local Point = ffi.struct{{"x", "int"}, {"y", "double"}}
    local Shape = ffi.struct{{"id", "uint8_t"}, {"origin", Point},
                             {"v", "int[3]"}, {"next", ffi.pointer(Point)},
                             {"name", "const char*"}}
    assert.are.equal(8, ffi.offsetof(Shape, "origin"))
    assert.are.equal(24, ffi.offsetof(Shape, "v"))
    assert.are.equal(40, ffi.offsetof(Shape, "next"))
    assert.are.equal(56, ffi.sizeof(Shape))
    assert.are.equal(56, ffi.sizeof(Shape:new()))
    assert.are.equal(56, ffi.sizeof(ffi.new(Shape)))
    local s = Shape{id = 7, origin = {x = 1, y = 2.5}, v = {10, 20, 30}}
    assert.are.equal(2.5, s.origin.y)
    s.origin.x = 42 -- a view writes into s
    assert.are.equal(42, s.origin.x)
    assert.are.equal(3, #s.v)
    assert.are.equal(30, s.v[2])
    s.v[0] = -1
    assert.are.equal(-1, s.v[0])
    helper.weft_error("WEFT_ERANGE", function() return s.v[3] end)
    assert.is_nil(s.next)
    local p = Point{x = 9}
    s.next = p
    assert.are.equal(9, s.next.x)
    s.next.x = 10
    assert.are.equal(10, p.x)
    s.name = "shape " .. 7 -- kept alive with s
    collectgarbage()
    assert.are.equal("shape 7", s.name)
    s.name = nil
    assert.is_nil(s.name)
    local view = s.origin
    s = nil
    collectgarbage()
    assert.are.equal(42, view.x) -- the view keeps its struct alive
  end)

  it("can be named for type strings (ffi.typedef)", function()
    local Vec = ffi.typedef("test_vec2", ffi.struct{{"x", "int"}, {"y", "int"}})
    assert.are.equal(8, ffi.sizeof("test_vec2"))
    assert.are.equal(8, ffi.sizeof("struct test_vec2 *"))
    assert.are.equal(24, ffi.sizeof("test_vec2[3]"))
    local arr = ffi.new("test_vec2[3]", {{1, 2}, {3, 4}, {5, 6}})
    local p = ffi.cast("test_vec2*", arr)
    assert.are.same({6, 3}, {p[2].y, (p + 1).x})
    assert.is_true(ffi.istype(Vec, ffi.new("test_vec2")))
    local first = libc:func("memchr", "test_vec2*", {"test_vec2*", "int", "size_t"})
    assert.are.equal(1, first(arr, 1, 24).x)
    helper.weft_error("WEFT_EVALUE", ffi.typedef, "test_vec2", Vec)
    helper.weft_error("WEFT_EVALUE", ffi.typedef, "int", Vec)
    helper.weft_error("WEFT_EVALUE", ffi.typedef, "unsigned", Vec)
    helper.weft_error("WEFT_EVALUE", ffi.typedef, "two words", Vec)
  end)

  it("lives as long as what uses it", function()
    -- the struct type of an object, a function's argument types and a
    -- callback's are kept by them: dropping every other reference is safe
    local s = ffi.struct{{"a", "int"}, {"b", "int", 4}}{a = 1, b = 5}
    local div = libc:func("div", ffi.struct{{"quot", "int"}, {"rem", "int"}},
                          {"int", "int"})
    local cb = ffi.callback(ffi.struct{{"v", "int"}}, {ffi.pointer("int")},
                            function(p) return {v = p[0] * 2} end)
    for _ = 1, 3 do collectgarbage() end
    assert.are.same({1, 5}, {s.a, s.b})
    assert.are.equal(1, div(7, 2).rem)
    local n = ffi.new("int", 21)
    assert.are.equal(42, cb(n).v)
  end)

  it("takes methods and metamethods (ffi.metatype)", function()
    local Vec = ffi.metatype(ffi.struct{{"x", "double"}, {"y", "double"}}, {
      __index = {len = function(v) return math.sqrt(v.x * v.x + v.y * v.y) end},
      __add = function(a, b) return ffi.typeof(a){a.x + b.x, a.y + b.y} end,
      __tostring = function(v) return ("(%g, %g)"):format(v.x, v.y) end,
      __eq = function(a, b) return a.x == b.x and a.y == b.y end,
      __call = function(v, k) return v.x * k, v.y * k end,
    })
    local v = Vec{3, 4}
    assert.are.equal(5.0, v:len())
    assert.are.equal("(4, 5)", tostring(v + Vec{1, 1}))
    assert.is_true(v == Vec{3, 4})
    assert.are.same({6.0, 8.0}, {v(2)})
    local p = ffi.addressof(v) -- pointers get them too
    assert.are.equal(5.0, p:len())
    assert.is_nil(v.nope)
    v.x = 6 -- fields still win
    assert.are.equal(6.0, v.x)
    helper.weft_error("WEFT_EVALUE", function() return v < v end)
    helper.weft_error("WEFT_ESTATE", ffi.metatype, Vec, {})
    helper.weft_error("WEFT_EVALUE", ffi.metatype, "int", {})
    local Plain = ffi.struct{{"a", "int"}}
    helper.weft_error("WEFT_EVALUE", function() return Plain() .. "x" end)
  end)

  it("finds fields with long names and in large structs", function()
    local long = ("a_field_name_longer_than_lua_interns_"):rep(2)
    local fields = {{long, "int"}}
    for i = 1, 40 do fields[#fields + 1] = {"f" .. i, "short"} end
    local S = ffi.struct(fields)
    local s = S()
    s[long] = 7
    s.f40 = -2
    s["f" .. 20] = 20
    assert.are.same({7, -2, 20, 0}, {s[long], s.f40, s.f20, s.f1})
    assert.are.equal(4 + 2 * 39, ffi.offsetof(S, "f40"))
  end)

  it("can be a union", function()
    local U = ffi.union{{"i", "uint32_t"}, {"b", "uint8_t[4]"}, {"f", "float"}}
    assert.are.equal(4, ffi.sizeof(U))
    local u = U{i = 0x01020304}
    assert.are.equal(4, u.b[0]) -- little-endian
    u.f = 1.0
    assert.are.equal(0x3f800000, u.i)
  end)

  it("reaches the fields of anonymous members", function()
    -- struct { int tag; union { int i; float f; }; double z; }
    local S = ffi.struct{{"tag", "int"},
                         {"", ffi.union{{"i", "int"}, {"f", "float"}}},
                         {"z", "double"}}
    assert.are.equal(16, ffi.sizeof(S))
    local s = S{tag = 1, f = 1.0, z = 2}
    assert.are.equal(0x3f800000, s.i)
    s.i = 0x40000000
    assert.are.equal(2.0, s.f)
    assert.are.same({1, 2.0}, {s.tag, s.z})
  end)

  it("refuses bad fields and unknown names", function()
    helper.weft_error("WEFT_EVALUE", ffi.struct, {{"a", "int", 33}})
    helper.weft_error("WEFT_EVALUE", ffi.struct, {{"a", "double", 3}})
    helper.weft_error("WEFT_EVALUE", ffi.struct, {{"a", "int"}, {"a", "int"}})
    helper.weft_error("WEFT_EVALUE", ffi.struct, {{"a", "frob"}})
    helper.weft_error("WEFT_EVALUE", ffi.struct, {{"a"}})
    helper.weft_error("WEFT_EVALUE", ffi.struct, {"a"})
    helper.weft_error("WEFT_EVALUE", ffi.struct, {{"a", "int"}, layout = "x"})
    helper.weft_error("WEFT_EVALUE", ffi.struct, {{"a", "int"}, pack = 3})
    local S = ffi.struct{{"a", "int"}}
    local s = S()
    local err = helper.weft_error("WEFT_EVALUE", function() return s.nope end)
    assert.matches("no field 'nope'", err.message, 1, true)
    helper.weft_error("WEFT_EVALUE", function() s.a = "x" end)
    helper.weft_error("WEFT_EVALUE", function() return s[0] end)
    helper.weft_error("WEFT_EVALUE", S, {nope = 1})
  end)
end)

describe("memory", function()
  it("is made, filled, copied and read", function()
    local b = ffi.new(8)
    assert.are.equal(8, ffi.sizeof(b))
    assert.are.same({0, 0, 0, 0, 0, 0, 0, 0}, bytes(b))
    ffi.fill(b, 4, 0x41)
    assert.are.equal("AAAA\0\0\0\0", ffi.string(b, 8))
    ffi.copy(b, "xy")
    assert.are.equal("xy", ffi.string(b))
    ffi.copy(b + 4, "1234", 4)
    assert.are.equal("1234", ffi.string(b + 4, 4))
    local a = ffi.new("int[?]", 4, {1, 2, 3, 4})
    assert.are.equal(4, #a)
    assert.are.equal(16, ffi.sizeof(a))
    assert.are.equal(3, a[2])
    local box = ffi.new("double", 1.5)
    assert.are.equal(1.5, box[0])
  end)

  it("has pointers with arithmetic, casts and addresses", function()
    local a = ffi.new("int[4]", {10, 20, 30, 40})
    local p = ffi.cast("int*", a)
    assert.are.equal(20, p[1])
    local q = p + 2
    assert.are.equal(30, q[0])
    assert.are.equal(2, q - p)
    assert.are.equal(p, q - 2)
    q[1] = 41
    assert.are.equal(41, a[3])
    assert.are.equal(ffi.address(a) + 8, ffi.address(q))
    assert.are.equal(ffi.address(a), ffi.cast("uintptr_t", p))
    assert.are.equal(-1, ffi.cast("int", 0xffffffff))
    assert.are.equal(255, ffi.cast("uint8_t", -1))
    local pa = ffi.addressof(a)
    assert.are.equal(ffi.address(a), ffi.address(pa))
    local S = ffi.struct{{"a", "int"}, {"b", "int"}}
    local s = S{1, 2}
    local pb = ffi.addressof(s, "b")
    pb[0] = 5
    assert.are.equal(5, s.b)
    local ps = ffi.addressof(s)
    assert.are.equal(1, ps.a)
    assert.are.equal(5, ps[0].b)
    assert.is_true(ffi.isnull(ffi.cast("void*", 0)))
  end)

  it("from C is released by a finalizer (ffi.gc)", function()
    local malloc = libc:func("malloc", "void*", {"size_t"})
    local free = libc:func("free", "void", {"void*"})
    local freed = 0
    local function release(p)
      freed = freed + 1
      free(p)
    end
    for _ = 1, 50 do
      local p = ffi.gc(malloc(64), release)
      ffi.fill(p, 64, 1)
    end
    local kept = ffi.gc(malloc(8), release)
    assert.are.equal(kept, ffi.gc(kept, nil)) -- no finalizer any more
    collectgarbage()
    collectgarbage()
    assert.are.equal(50, freed)
    free(kept)
    -- the finalizer gets the object itself, still readable
    local seen
    local a = ffi.gc(ffi.new("int[2]", {7, 8}), function(x) seen = x[1] end)
    a = nil
    collectgarbage()
    collectgarbage()
    assert.are.equal(8, seen)
    helper.weft_error("WEFT_EVALUE", ffi.gc, ffi.new(1), 42)
  end)

  it("refuses NULL and bad uses", function()
    helper.weft_error("WEFT_EVALUE", ffi.string, nil)
    helper.weft_error("WEFT_EVALUE", ffi.fill, nil, 1)
    helper.weft_error("WEFT_EVALUE", ffi.copy, nil, "x")
    -- Lua shares a string's bytes with every equal string: never a
    -- destination (this once turned every "int" of the suite into "...")
    helper.weft_error("WEFT_EVALUE", ffi.copy, "int", "...")
    helper.weft_error("WEFT_EVALUE", ffi.copy, "int", "ab", 2)
    helper.weft_error("WEFT_EVALUE", ffi.fill, "int", 1)
    assert.are.equal("int", ("in" .. "t"))
    helper.weft_error("WEFT_EVALUE", ffi.new, "void")
    helper.weft_error("WEFT_EVALUE", ffi.new, "int[?]")
    helper.weft_error("WEFT_EVALUE", ffi.new, "int[2]", {1, 2, 3})
    helper.weft_error("WEFT_EVALUE", ffi.new, "char[2]", "abc")
    helper.weft_error("WEFT_EVALUE", ffi.new, -1)
    helper.weft_error("WEFT_EVALUE", ffi.cast, ffi.struct{{"a", "int"}}, 0)
    local v = ffi.cast("void*", 16)
    helper.weft_error("WEFT_EVALUE", function() return v[0] end)
    local np = ffi.cast("int*", 0)
    helper.weft_error("WEFT_EVALUE", function() return np[0] end)
    helper.weft_error("WEFT_EVALUE", ffi.sizeof, "no such type")
    -- what an object holds is known: no copy, fill or read runs past it
    local small = ffi.new("char[4]")
    helper.weft_error("WEFT_ERANGE", ffi.copy, small, "too long")
    helper.weft_error("WEFT_ERANGE", ffi.copy, small, "abcdefgh", 5)
    helper.weft_error("WEFT_ERANGE", ffi.copy, ffi.new(8), small, 5)
    helper.weft_error("WEFT_ERANGE", ffi.fill, small, 5)
    helper.weft_error("WEFT_ERANGE", ffi.string, small, 5)
    ffi.fill(small, 4, 0x61)
    assert.are.equal("aaaa", ffi.string(small)) -- no NUL: stops at the end
    -- a cast reads nothing, not even to char*
    local bogus = ffi.cast("char*", 1)
    assert.are.equal(1, ffi.address(bogus))
    helper.weft_error("WEFT_EVALUE", ffi.typeof, 42)
  end)
end)

describe("a callback", function()
  local qsort = libc:func("qsort", "void", {"void*", "size_t", "size_t", "void*"})

  it("sorts with libc's qsort", function()
    local calls = 0
    local cmp = ffi.callback("int", {"const int*", "const int*"}, function(a, b)
      calls = calls + 1
      return a[0] < b[0] and -1 or a[0] > b[0] and 1 or 0
    end)
    local a = ffi.new("int[8]", {5, -3, 8, 1, 9, 0, 2, 7})
    qsort(a, 8, ffi.sizeof("int"), cmp)
    local got = {}
    for i = 0, 7 do got[#got + 1] = a[i] end
    assert.are.same({-3, 0, 1, 2, 5, 7, 8, 9}, got)
    assert.is_true(calls > 0)
    cmp:free()
  end)

  it("is made from a signature string", function()
    local cmp = ffi.callback("int (const void *, const void *)", function(a, b)
      local x, y = ffi.cast("double*", a)[0], ffi.cast("double*", b)[0]
      return x > y and -1 or x < y and 1 or 0 -- descending
    end)
    local a = ffi.new("double[3]", {1.5, 3.5, 2.5})
    qsort(a, 3, 8, cmp)
    assert.are.same({3.5, 2.5, 1.5}, {a[0], a[1], a[2]})
  end)

  it("is callable through C, structs by value included", function()
    local twice = ffi.callback("int64_t", {"int64_t"}, function(x) return 2 * x end)
    assert.are.equal(2 ^ 40 * 2, twice(2 ^ 40 // 1))
    assert.are.equal(-6, ffi.func(twice, "int64_t", {"int64_t"})(-3))
    local Pair = ffi.struct{{"a", "int"}, {"b", "double"}}
    local swap = ffi.callback(Pair, {Pair}, function(p)
      return {a = math.floor(p.b), b = p.a}
    end)
    local r = swap({a = 3, b = 7.5})
    assert.are.same({7, 3.0}, {r.a, r.b})
  end)

  it("that raises returns zeros", function()
    local bad = ffi.callback("int", {"int"}, function() error("test error, expected") end)
    assert.are.equal(0, bad(1))
    local badret = ffi.callback("int", {"int"}, function() return "x" end)
    assert.are.equal(0, badret(1))
    local str = ffi.callback("char*", {}, function() return "gone" end)
    assert.is_nil(str())
  end)

  it("once freed cannot be passed or called", function()
    local cb = ffi.callback("int", {"int"}, function(x) return x end)
    assert.are.equal(1, cb(1))
    cb:free()
    cb:free()
    helper.weft_error("WEFT_EBADHANDLE", cb, 1)
    helper.weft_error("WEFT_EBADHANDLE", qsort, nil, 0, 4, cb)
    assert.matches("freed", tostring(cb))
  end)

  it("refuses to be variadic or to take no function", function()
    helper.weft_error("WEFT_EVALUE", ffi.callback, "int", {"int", "..."},
                      function() end)
    assert.has_error(function() ffi.callback("int", {"int"}) end)
  end)

  it("runs in this state when a weft thread calls it", function()
    local seen = {}
    local cb = ffi.callback("int", {"int"}, function(x)
      seen[#seen + 1] = weft.current_thread()
      return x + 1
    end)
    local t = weft.Thread(function(address)
      local ffi = require "weft.ffi"
      local f = ffi.func(address, "int", {"int"})
      local n = 0
      for i = 1, 10 do n = n + f(i) end
      require("weft").core.thread_exit(n)
    end, ffi.address(cb))
    t:start()
    assert.is_true(t:join(60)) -- the join runs the queued calls
    assert.are.equal(65, t.result)
    assert.are.equal(10, #seen)
    assert.are.equal(weft.main_thread(), seen[1])
  end)

  it("serves several threads at once while this state sleeps in C", function()
    -- usleep with blocking = true: the calls borrow the state one at a
    -- time while it sleeps; dispatch runs those queued between sleeps.
    local usleep = libc:func("usleep", "int", {"unsigned int"}, {blocking = true})
    local count = 0
    local cb = ffi.callback("int", {"int"}, function(x)
      count = count + 1
      return x + 1
    end)
    local threads = {}
    for i = 1, 4 do
      threads[i] = weft.Thread(function(address, n)
        local ffi = require "weft.ffi"
        local f = ffi.func(address, "int", {"int"})
        local wrong = 0
        for k = 1, n do
          if f(k) ~= k + 1 then wrong = wrong + 1 end
        end
        require("weft").core.thread_exit(wrong)
      end, ffi.address(cb), 250)
      threads[i]:start()
    end
    local rounds = 0
    assert.is_true(helper.eventually(function()
      rounds = rounds + 1
      if rounds % 3 == 0 then weft.dispatch(0) else usleep(200) end
      return count == 1000
    end))
    for _, t in ipairs(threads) do
      assert.is_true(t:join(60))
      assert.are.equal(0, t.result)
    end
  end)

  it("lets a callback's own blocking call serve other callbacks", function()
    -- A pthread's callback borrows this state while it joins that thread;
    -- the callback starts a second pthread and joins it (blocking too),
    -- whose callback must be able to borrow the state in turn.
    local pthread_create = ffi.C:func("pthread_create", "int",
                                      {"void*", "void*", "void*", "void*"})
    local join = ffi.C:func("pthread_join", "int", {"unsigned long", "void*"},
                            {blocking = true})
    local order = {}
    local inner = ffi.callback("void*", {"void*"}, function()
      order[#order + 1] = "inner"
    end)
    local outer = ffi.callback("void*", {"void*"}, function()
      order[#order + 1] = "outer"
      local tid = ffi.new("unsigned long")
      assert(pthread_create(tid, nil, inner, nil) == 0)
      assert(join(tid[0], nil) == 0)
      order[#order + 1] = "outer done"
    end)
    local tid = ffi.new("unsigned long")
    assert.are.equal(0, pthread_create(tid, nil, outer, nil))
    assert.are.equal(0, join(tid[0], nil))
    assert.are.same({"outer", "inner", "outer done"}, order)
  end)

  it("runs in this state when a foreign pthread calls it", function()
    -- From the process's namespace, as a C program links them (a
    -- sanitizer's interposed pthread_create included).
    local pthread_create = ffi.C:func("pthread_create", "int",
                                      {"void*", "void*", "void*", "void*"})
    -- blocking: the callbacks may borrow this state while the join waits
    local join = ffi.C:func("pthread_join", "int", {"unsigned long", "void*"},
                            {blocking = true})
    local plain_join = ffi.C:func("pthread_join", "int",
                                  {"unsigned long", "void*"})
    local runs = 0
    local start = ffi.callback("void*", {"void*"}, function(arg)
      runs = runs + 1
      return arg
    end)
    for i = 1, 20 do
      local tid, res = ffi.new("unsigned long"), ffi.new("void*")
      assert.are.equal(0, pthread_create(tid, nil, start, ffi.cast("void*", i)))
      assert.are.equal(0, join(tid[0], res))
      assert.are.equal(i, ffi.address(res[0]))
    end
    assert.are.equal(20, runs)
    -- without blocking the state runs the call when it dispatches
    local tid = ffi.new("unsigned long")
    assert.are.equal(0, pthread_create(tid, nil, start, nil))
    -- (a call that a waiting thread ran itself still sits in the queue and
    -- counts in dispatch's number; it runs nothing)
    assert.is_true(helper.eventually(function()
      weft.dispatch(0.05)
      return runs == 21
    end))
    assert.are.equal(0, plain_join(tid[0], nil))
    assert.are.equal(21, runs)
  end)
end)

describe("every function", function()
  it("survives every pair of unusual arguments with a Lua error or a result", function()
    -- Integer addresses are skipped for the functions that read or write
    -- memory at them (a wrong address crashes, as in C).
    local S = ffi.struct{{"a", "int"}, {"b", "char*"}, {"c", "int", 3}}
    local vals = {false, 0, 1, -1, 2 ^ 63, 1.5, "", "int", "int*", "char[?]", {},
                  {1, 2}, {a = 1}, true, S, S(), ffi.new("int[2]"),
                  ffi.cast("void*", 0), ffi.cast("int*", 0), libc, print,
                  coroutine.create(print), ffi.typeof("double"), ffi.new("char*"),
                  math.huge, -math.huge, 0 / 0, "size_t strlen(const char*)",
                  "...", {"..."}}
    vals[#vals + 1] = nil
    local reads = {string = true, copy = true, fill = true, func = true}
    local calls, raised = 0, 0
    for name, f in pairs(ffi) do
      if type(f) == "function" and name ~= "gc" then -- (print as a finalizer)
        for i = 1, #vals + 1 do
          for j = 1, #vals + 1 do
            local a, b = vals[i], vals[j]
            local address = math.type(a) or math.type(b)
            if not (reads[name] and address) then
              calls = calls + 1
              if not pcall(f, a, b) then raised = raised + 1 end
            end
          end
        end
      end
    end
    for _, v in ipairs(vals) do
      for _, c in ipairs{S(), ffi.new("int[2]"), ffi.new("char*"),
                         ffi.cast("int*", 0), ffi.cast("void*", 0)} do
        pcall(function() return c[v] end)
        pcall(function() c[v] = v end)
        pcall(function() return c + v end)
        pcall(function() return c - v end)
        pcall(function() return #c end)
        pcall(function() return c.a end)
        pcall(function() c.a = v end)
        pcall(function() c.b = v end)
      end
    end
    collectgarbage()
    assert.is_true(calls > 10000)
    assert.is_true(raised > 0 and raised < calls)
  end)
end)

-- libfftest (tests/ffi/fftest.c): the engine's test library, loaded by
-- path ($WEFT_FFTEST_LIB under make check; else next to this build's
-- weft.core).
local function fftest()
  local path = os.getenv("WEFT_FFTEST_LIB")
  if path == nil or path == "" then
    local core = assert(package.searchpath("weft.core", package.cpath))
    path = core:gsub("bindings/lua/weft/core%.so$", "tests/ffi/.libs/libfftest.so")
  end
  return ffi.load(path)
end

describe("libfftest", function()
  local ft = fftest()

  -- Struct declarations of fftest.h: {name, type} or {name, {fields}}.
  local specs = {
    s1 = {{"a", "char"}},
    s2 = {{"a", "short"}, {"b", "char"}},
    sc3 = {{"a", "char[3]"}},
    sf2 = {{"a", "float"}, {"b", "float"}},
    sic = {{"a", "int"}, {"b", "char"}},
    sdi = {{"a", "double"}, {"b", "int"}},
    sfif = {{"a", "float"}, {"b", "int"}, {"c", "float"}},
    sdf = {{"a", "double"}, {"b", "float"}},
    sfffc = {{"a", "float"}, {"b", "float"}, {"c", "float"}, {"d", "char"}},
    si5 = {{"a", "int[5]"}},
    sd4 = {{"a", "double[4]"}},
    sld = {{"a", "long double"}},
    snest = {{"a", "char"}, {"in", {{"b", "short"}, {"c", "float"}}}},
    s17 = {{"a", "char[17]"}},
    s24 = {{"a", "double"}, {"b", "long"}, {"c", "float"}, {"d", "int"}},
    s48 = {{"a", "int"}, {"b", "double[3]"}, {"c", "char[9]"}},
    s64 = {{"a", "double[4]"}, {"b", "long[4]"}},
    s80 = {{"a", "double[9]"}, {"b", "char"}},
  }
  local function build(spec)
    local fields = {}
    for i, f in ipairs(spec) do
      fields[i] = {f[1], type(f[2]) == "table" and build(f[2]) or f[2]}
    end
    return ffi.struct(fields)
  end
  -- Every scalar of x in declaration order.
  local function flatten(spec, x, out)
    out = out or {}
    for _, f in ipairs(spec) do
      local v = x[f[1]]
      if type(f[2]) == "table" then
        flatten(f[2], v, out)
      elseif f[2]:find("%[") then
        for i = 0, #v - 1 do out[#out + 1] = v[i] end
      else
        out[#out + 1] = v
      end
    end
    return out
  end

  it("passes and returns structs of 1 to 80 bytes by value", function()
    local names = {}
    for name in pairs(specs) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local spec, S = specs[name], build(specs[name])
      local make = ft:func("ft_make_" .. name, S, {"int"})
      local bump = ft:func("ft_bump_" .. name, S, {S})
      local sum = ft:func("ft_sum_" .. name, "double", {S})
      local mid = ft:func("ft_mid_" .. name, "double", {"int", S, "double"})
      local x = make(3)
      local want, bumped = {}, {}
      for j, v in ipairs(flatten(spec, x)) do
        want[j], bumped[j] = 3 + j - 1, 3 + j
        assert(v == want[j], ("%s: element %d is %s, want %d"):format(name, j,
                                                                     v, want[j]))
      end
      assert.are.same(bumped, flatten(spec, bump(x)), name)
      assert.are.equal(1 + 2 * sum(x) + 6, mid(1, x, 2), name)
    end
  end)

  it("calls back with structs by value", function()
    local S = build(specs.sdi)
    local call = ft:func("ft_call_sdi", S, {"void*", S, "int"})
    local cb = ffi.callback(S, {S, "int"}, function(x, k)
      return {a = x.a * k, b = x.b + k}
    end)
    local r = call(cb, {a = 1.5, b = 10}, 4)
    assert.are.same({6.0, 14}, {r.a, r.b})
  end)

  it("serves callbacks from C's own threads during a blocking call", function()
    local in_thread = ft:func("ft_call_in_thread", "int",
                              {"void*", "int", "unsigned long*"}, {blocking = true})
    local in_threads = ft:func("ft_call_in_threads", "long",
                               {"void*", "int", "int", "int"}, {blocking = true})
    local calls = 0
    local cb = ffi.callback("int", {"int"}, function(x)
      calls = calls + 1
      return x + 1
    end)
    local tid = ffi.new("unsigned long")
    assert.are.equal(6, in_thread(cb, 5, tid))
    assert.is_true(tid[0] ~= 0)
    -- each of 4 threads calls cb(1 + i) for i = 0 .. 199
    local want = 0
    for i = 0, 199 do want = want + 4 * (1 + i + 1) end
    assert.are.equal(want, in_threads(cb, 1, 200, 4))
    assert.are.equal(1 + 800, calls)
  end)
end)
