"""weft.ctypes: ctypes' API over the ctypes engine, on both backends.

Calls into libc and libm (scalars, strings, variadic calls, structs by
value both ways, out-parameters, errno, callbacks from qsort and from a
thread libc starts) and into the engine's test library ($WEFT_FFTEST_LIB,
tests/ffi/fftest.c: structs by value of 1 to 80 bytes, callbacks from
several C threads), struct layouts against what gcc does (offsets worked
out by hand from gcc's rules, and Python's own ctypes where it agrees
with gcc), field access (bitfields, byte order), memory helpers, and bad
input.
"""

import ctypes as std
import errno
import os
import sys
import threading
import time
import unittest

import weft
import weft.ctypes as C
from weft.ctypes import (CDLL, PyDLL, CFUNCTYPE, POINTER, Structure, Union,
                         BigEndianStructure, LittleEndianStructure,
                         BigEndianUnion, byref,
                         c_bool, c_char, c_wchar, c_byte, c_ubyte, c_short,
                         c_ushort, c_int, c_uint, c_long, c_ulong,
                         c_longlong, c_ulonglong, c_size_t, c_ssize_t,
                         c_float, c_double, c_longdouble, c_char_p,
                         c_wchar_p, c_void_p, c_int8, c_uint8, c_int16,
                         c_uint16, c_int32, c_uint32, c_int64, c_uint64,
                         sizeof, alignment, addressof, pointer, cast,
                         string_at, memmove, memset, create_string_buffer)

LIBC = C.find_library("c")
LIBM = C.find_library("m")

FUNDAMENTALS = ["c_bool", "c_char", "c_wchar", "c_byte", "c_ubyte",
                "c_short", "c_ushort", "c_int", "c_uint", "c_long",
                "c_ulong", "c_longlong", "c_ulonglong", "c_size_t",
                "c_ssize_t", "c_float", "c_double", "c_longdouble",
                "c_char_p", "c_wchar_p", "c_void_p", "c_int8", "c_uint8",
                "c_int16", "c_uint16", "c_int32", "c_uint32", "c_int64",
                "c_uint64"]


def libc(**kw):
    return CDLL(LIBC, **kw)


class Types(unittest.TestCase):

    def test_sizes_and_alignments_are_pythons_ctypes(self):
        for name in FUNDAMENTALS:
            with self.subTest(name):
                self.assertEqual(sizeof(getattr(C, name)),
                                 std.sizeof(getattr(std, name)))
                self.assertEqual(alignment(getattr(C, name)),
                                 std.alignment(getattr(std, name)))

    def test_fixed_width_names_are_the_same_types_as_in_ctypes(self):
        for name in ["c_int8", "c_uint8", "c_int16", "c_uint16", "c_int32",
                     "c_uint32", "c_int64", "c_uint64", "c_size_t",
                     "c_ssize_t"]:
            with self.subTest(name):
                self.assertEqual(getattr(C, name).__name__,
                                 getattr(std, name).__name__)

    def test_values_round_trip_and_ints_wrap_as_in_ctypes(self):
        for name, value in [("c_int", 2 ** 32 + 7), ("c_int", -1),
                            ("c_uint", -1), ("c_byte", 300),
                            ("c_ubyte", -1), ("c_short", 70000),
                            ("c_ulonglong", -1), ("c_longlong", 2 ** 63),
                            ("c_ulong", 2 ** 64 - 1)]:
            with self.subTest(name=name, value=value):
                self.assertEqual(getattr(C, name)(value).value,
                                 getattr(std, name)(value).value)

    def test_other_values(self):
        self.assertEqual(c_double(2.5).value, 2.5)
        self.assertEqual(c_float(0.1).value, std.c_float(0.1).value)
        self.assertEqual(c_longdouble(1.25).value, 1.25)
        self.assertIs(c_bool(3).value, True)
        self.assertEqual(c_char(b"a").value, b"a")
        self.assertEqual(c_char(65).value, b"A")
        self.assertEqual(c_wchar("\u00e9").value, "\u00e9")
        self.assertEqual(c_char_p(b"hi").value, b"hi")
        self.assertIsNone(c_char_p().value)
        self.assertEqual(c_wchar_p("h\u00e9").value, "h\u00e9")
        self.assertIsNone(c_void_p().value)
        self.assertEqual(c_void_p(1234).value, 1234)
        self.assertEqual(repr(c_int(5)), "c_int(5)")

    def test_a_float_is_not_an_int(self):
        with self.assertRaises(TypeError):
            c_int(1.5)
        with self.assertRaises(TypeError):
            c_double("x")

    def test_arrays(self):
        A = c_int * 4
        self.assertIs(A, c_int * 4)
        a = A(1, 2, 3)
        self.assertEqual(list(a), [1, 2, 3, 0])
        self.assertEqual(sizeof(a), 16)
        self.assertEqual(len(a), 4)
        a[3] = 9
        self.assertEqual(a[-1], 9)
        self.assertEqual(a[1:3], [2, 3])
        with self.assertRaises(IndexError):
            a[4]
        with self.assertRaises(IndexError):
            A(1, 2, 3, 4, 5)
        grid = (c_short * 3) * 2
        self.assertEqual(sizeof(grid), 12)
        g = grid()
        g[1][2] = 7
        self.assertEqual(g[1][2], 7)
        self.assertEqual(bytes(g)[10:12], (7).to_bytes(2, sys.byteorder))

    def test_string_buffers(self):
        b = create_string_buffer(b"hello")
        self.assertEqual(len(b), 6)
        self.assertEqual(b.value, b"hello")
        self.assertEqual(b.raw, b"hello\0")
        b.value = b"hi"
        self.assertEqual(b.value, b"hi")
        self.assertEqual(create_string_buffer(4).raw, b"\0" * 4)
        u = C.create_unicode_buffer("\u00e9t\u00e9")
        self.assertEqual(u.value, "\u00e9t\u00e9")

    def test_pointers(self):
        i = c_int(42)
        p = pointer(i)
        self.assertIs(type(p), POINTER(c_int))
        self.assertEqual(p.contents.value, 42)
        self.assertEqual(p[0], 42)
        p[0] = 43
        self.assertEqual(i.value, 43)
        self.assertEqual(addressof(p.contents), addressof(i))
        null = POINTER(c_int)()
        self.assertFalse(null)
        with self.assertRaises(ValueError):
            null.contents
        self.assertIs(POINTER(None), c_void_p)

    def test_cast_and_memory_helpers(self):
        a = (c_ubyte * 8)(*range(1, 9))
        p = cast(a, POINTER(c_ubyte))
        self.assertEqual(p[7], 8)
        self.assertEqual(cast(a, c_void_p).value, addressof(a))
        self.assertEqual(string_at(a, 3), b"\x01\x02\x03")
        memset(a, 0x41, 4)
        self.assertEqual(bytes(a)[:5], b"AAAA\x05")
        memmove(a, b"xyz", 3)
        self.assertEqual(string_at(addressof(a), 4), b"xyzA")
        self.assertEqual(string_at(b"abc\0def"), b"abc")
        self.assertEqual(cast(b"zz", c_char_p).value, b"zz")

    def test_from_buffer(self):
        ba = bytearray(8)
        v = c_uint32.from_buffer(ba, 4)
        v.value = 0x01020304
        self.assertEqual(ba[4:], (0x01020304).to_bytes(4, sys.byteorder))
        w = c_uint32.from_buffer_copy(bytes(ba), 4)
        self.assertEqual(w.value, 0x01020304)
        with self.assertRaises(TypeError):
            c_int.from_buffer(b"1234")
        with self.assertRaises(ValueError):
            c_int.from_buffer(bytearray(2))


class Layout(unittest.TestCase):
    """Offsets worked out by hand from gcc's rules (docs/ffi.md)."""

    def fields(self, cls):
        return [(f.name, f.offset, f.size, f.bit_offset, f.bit_size)
                for f in (getattr(cls, n[0]) for n in cls._fields_ if n[0])]

    def test_bitfields_gcc(self):
        class S(Structure):
            _fields_ = [("a", c_char), ("b", c_int, 3), ("c", c_int, 30),
                        ("d", c_double)]
        # a: byte 0; b: bits 8..10 of the int at 0; c does not fit in
        # the rest of that int (11 + 30 > 32): the next int, at 4; d at 8
        self.assertEqual(sizeof(S), 16)
        self.assertEqual(alignment(S), 8)
        self.assertEqual(self.fields(S), [("a", 0, 1, 0, 8),
                                          ("b", 0, 4, 8, 3),
                                          ("c", 4, 4, 0, 30),
                                          ("d", 8, 8, 0, 64)])
        self.assertTrue(S.b.is_bitfield)
        self.assertFalse(S.a.is_bitfield)

    def test_bitfields_share_a_unit_under_gcc_but_not_ms(self):
        class G(Structure):
            _fields_ = [("a", c_char, 3), ("b", c_int, 3)]

        class M(Structure):
            _layout_ = "ms"
            _fields_ = [("a", c_char, 3), ("b", c_int, 3)]
        self.assertEqual((sizeof(G), alignment(G)), (4, 4))
        self.assertEqual((G.b.offset, G.b.bit_offset), (0, 3))
        self.assertEqual((sizeof(M), alignment(M)), (8, 4))
        self.assertEqual((M.b.offset, M.b.bit_offset), (4, 0))

    def test_pack_under_both_layouts(self):
        class P(Structure):
            _pack_ = 1
            _fields_ = [("a", c_char), ("b", c_int), ("c", c_short)]

        class MP(Structure):
            _layout_ = "ms"
            _pack_ = 2
            _fields_ = [("a", c_char), ("b", c_int)]

        class PB(Structure):  # packed bitfields cross int boundaries
            _pack_ = 1
            _fields_ = [("a", c_int, 30), ("b", c_int, 4)]
        self.assertEqual((sizeof(P), alignment(P)), (7, 1))
        self.assertEqual((P.b.offset, P.c.offset), (1, 5))
        self.assertEqual((sizeof(MP), alignment(MP), MP.b.offset), (6, 2, 2))
        self.assertEqual(sizeof(PB), 5)
        s = PB(a=-1, b=5)
        self.assertEqual((s.a, s.b), (-1, 5))

    def test_align_union_nested_and_zero_width(self):
        class A(Structure):
            _align_ = 16
            _fields_ = [("x", c_int)]

        class U(Union):
            _fields_ = [("i", c_int), ("d", c_double), ("c", c_char * 12)]

        class Outer(Structure):
            _fields_ = [("c", c_char), ("u", U), ("a", A)]

        class Z(Structure):
            _fields_ = [("a", c_char, 1), ("", c_int, 0), ("b", c_char)]
        self.assertEqual((sizeof(A), alignment(A)), (16, 16))
        self.assertEqual((sizeof(U), alignment(U)), (16, 8))
        self.assertEqual((Outer.u.offset, Outer.a.offset, sizeof(Outer)),
                         (8, 32, 48))
        self.assertEqual((Z.b.offset, sizeof(Z)), (4, 5))
        o = Outer()
        self.assertEqual(addressof(o) % 16, 0)

    def test_plain_structs_agree_with_pythons_ctypes(self):
        def both(mod):
            class In(mod.Structure):
                _fields_ = [("a", mod.c_short), ("b", mod.c_double)]

            class S(mod.Structure):
                _fields_ = [("c", mod.c_char), ("i", In),
                            ("arr", mod.c_int * 3), ("p", mod.c_void_p),
                            ("ll", mod.c_longlong), ("f", mod.c_float)]

            class P(mod.Structure):
                _pack_ = 2
                _fields_ = [("c", mod.c_char), ("d", mod.c_double),
                            ("s", S)]
            return [(sizeof_(t), [getattr(t, f[0]).offset
                                  for f in t._fields_])
                    for sizeof_, t in [(mod.sizeof, In), (mod.sizeof, S),
                                       (mod.sizeof, P)]]
        self.assertEqual(both(C), both(std))

    def test_subclass_extends_its_base(self):
        class Base(Structure):
            _fields_ = [("a", c_int), ("b", c_char)]

        class Derived(Base):
            _fields_ = [("c", c_char)]
        self.assertEqual(sizeof(Derived), 12)
        self.assertEqual(Derived.c.offset, 8)
        d = Derived(1, b"x", b"y")
        self.assertEqual((d.a, d.b, d.c), (1, b"x", b"y"))

    def test_self_referencing_struct(self):
        class Node(Structure):
            pass
        Node._fields_ = [("next", POINTER(Node)), ("v", c_int)]
        a, b = Node(v=1), Node(v=2)
        a.next = pointer(b)
        self.assertEqual(a.next.contents.v, 2)
        self.assertEqual(sizeof(Node), 16)


SRCDIR = os.environ.get("top_srcdir") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir)
LAYOUT_SCRIPT = os.path.join(SRCDIR, "tests", "ffi", "ffi-layout.py")


def _layout_module():
    """tests/ffi/ffi-layout.py, the engine's layout test, for its random
    structs and its gcc ground truth."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("ffi_layout",
                                                  LAYOUT_SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@unittest.skipUnless(os.path.exists(LAYOUT_SCRIPT), "no tests/ffi")
class RandomLayouts(unittest.TestCase):
    """Random structs and unions (ffi-layout.py's: nesting, arrays,
    bitfields of every integer type, zero-width and unnamed ones, pack,
    aligned, ms_struct, big-endian) declared as weft.ctypes classes:
    sizeof, alignment and every field's offset must be gcc's, and a
    bitfield set to all ones through its descriptor must set exactly the
    bits gcc's `v.f = -1` sets."""

    COUNT = 600

    def test_weft_ctypes_classes_match_gcc(self):
        import random
        import subprocess
        import tempfile
        lay = _layout_module()
        rnd = random.Random(20261204)
        structs = []
        for i in range(self.COUNT):
            structs.append(lay.Struct(i, rnd, structs))
        with tempfile.TemporaryDirectory(prefix="weft-pylayout-") as tmp:
            try:
                truth = lay.gcc_results(structs, tmp)
            except (OSError, subprocess.CalledProcessError) as e:
                self.skipTest("no C compiler: %s" % e)
        scalars = {
            "char": c_char, "signed char": c_byte, "unsigned char": c_ubyte,
            "short": c_short, "unsigned short": c_ushort, "int": c_int,
            "unsigned int": c_uint, "long": c_long, "unsigned long": c_ulong,
            "long long": c_longlong, "unsigned long long": c_ulonglong,
            "_Bool": c_bool, "wchar_t": c_wchar, "float": c_float,
            "double": c_double, "long double": c_longdouble,
            "void *": c_void_p, "char *": c_char_p}
        classes = {}
        problems = []
        nbits = 0
        for st in structs:
            if st.big != lay.NATIVE_BIG:
                base = BigEndianUnion if st.union else BigEndianStructure
            else:
                base = Union if st.union else Structure
            fields = []
            for f in st.fields:
                t = scalars[f.base[0]] if f.kind == "scalar" \
                    else classes[f.base.name]
                if f.length is not None:
                    t = t * f.length
                fields.append((f.name, t) if f.bits is None
                              else (f.name, t, f.bits))
            ns = {"_pack_": st.pack, "_align_": st.align, "_fields_": fields}
            if st.ms:
                ns["_layout_"] = "ms"
            cls = classes[st.name] = type(st.name, (base,), ns)
            size, align, want = truth[st.name]
            if (sizeof(cls), alignment(cls)) != (size, align):
                problems.append("%s: size/align %d/%d, gcc %d/%d" % (
                    st.name, sizeof(cls), alignment(cls), size, align))
            for f in st.fields:
                if not f.name:
                    continue
                if f.bits is None:
                    got = getattr(cls, f.name).offset
                    if got != want[f.name]:
                        problems.append("%s.%s: offset %d, gcc %d" % (
                            st.name, f.name, got, want[f.name]))
                    continue
                ones = {"_Bool": True, "char": 255}.get(f.base[0], -1)
                if f.base[0] == "wchar_t":
                    if f.bits > 20:
                        continue  # no str holds all ones in so many bits
                    ones = chr((1 << f.bits) - 1)
                obj = cls()
                setattr(obj, f.name, ones)
                data = bytes(obj)
                got = frozenset(i * 8 + j for i in range(len(data))
                                for j in range(8) if data[i] >> j & 1)
                nbits += 1
                if got != want[f.name]:
                    problems.append("%s.%s: bits %s, gcc %s" % (
                        st.name, f.name, sorted(got), sorted(want[f.name])))
        self.assertEqual(problems[:10], [])
        self.assertGreater(nbits, 100)


class Fields(unittest.TestCase):

    def test_bitfields_sign_extend_and_keep_their_neighbours(self):
        class S(Structure):
            _fields_ = [("a", c_int, 4), ("b", c_uint, 4), ("c", c_int, 24)]
        s = S(-3, 15, -1)
        self.assertEqual((s.a, s.b, s.c), (-3, 15, -1))
        s.a = 9  # 1001: -7 in four signed bits
        self.assertEqual((s.a, s.b, s.c), (-7, 15, -1))
        s.b = 16  # only the low four bits are kept
        self.assertEqual((s.a, s.b, s.c), (-7, 0, -1))
        word = int.from_bytes(bytes(s), sys.byteorder)
        self.assertEqual(word & 0xFF, 0x09)

    def test_big_endian_fields(self):
        class B(BigEndianStructure):
            _fields_ = [("x", c_uint32), ("hi", c_uint8, 3),
                        ("lo", c_uint8, 5), ("d", c_double)]
        s = B()
        s.x = 0x01020304
        s.hi = 7
        s.d = 1.0
        self.assertEqual(bytes(s)[:5], b"\x01\x02\x03\x04\xe0")
        self.assertEqual(bytes(s)[8:], b"\x3f\xf0" + b"\0" * 6)
        self.assertEqual((s.x, s.hi, s.lo, s.d), (0x01020304, 7, 0, 1.0))

        class L(LittleEndianStructure):
            _fields_ = [("x", c_uint16)]
        self.assertEqual(bytes(L(0x0102)), b"\x02\x01")

    def test_nested_arrays_pointers_strings(self):
        class In(Structure):
            _fields_ = [("v", c_int * 2)]

        class S(Structure):
            _fields_ = [("i", In), ("name", c_char_p), ("p", POINTER(c_int)),
                        ("f", c_float)]
        s = S()
        s.i.v[1] = 5
        self.assertEqual(s.i.v[1], 5)
        s.i = In((c_int * 2)(7, 8))
        self.assertEqual(list(s.i.v), [7, 8])
        s.name = b"weft"
        self.assertEqual(s.name, b"weft")
        n = c_int(3)
        s.p = pointer(n)
        self.assertEqual(s.p.contents.value, 3)
        s.p = None
        self.assertFalse(s.p)
        s.f = 1.5
        self.assertEqual(s.f, 1.5)
        self.assertEqual(S.name.offset, 8)

    def test_anonymous(self):
        class U(Union):
            _fields_ = [("i", c_int), ("f", c_float)]

        class S(Structure):
            _anonymous_ = ("u",)
            _fields_ = [("tag", c_int), ("u", U)]
        s = S()
        s.i = 0x3F800000
        self.assertEqual(s.f, 1.0)
        self.assertEqual(s.u.i, 0x3F800000)

    def test_init_checks(self):
        class S(Structure):
            _fields_ = [("a", c_int), ("b", c_int)]
        with self.assertRaises(TypeError):
            S(1, 2, 3)
        with self.assertRaises(TypeError):
            S(1, a=2)
        self.assertEqual(S(b=4).b, 4)


class Calls(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.libc = libc(use_errno=True)
        cls.libm = CDLL(LIBM)

    def func(self, name, restype, *argtypes, lib=None):
        f = (lib or self.libc)[name]
        f.restype = restype
        f.argtypes = argtypes
        return f

    def test_scalars(self):
        strlen = self.func("strlen", c_size_t, c_char_p)
        self.assertEqual(strlen(b"hello"), 5)
        self.assertEqual(strlen(create_string_buffer(b"abc", 10)), 3)
        self.assertEqual(self.libc.abs(-5), 5)  # default: int (int)
        labs = self.func("labs", c_long, c_long)
        self.assertEqual(labs(-2 ** 40), 2 ** 40)
        self.assertEqual(labs(c_long(-7)), 7)
        sqrt = self.func("sqrt", c_double, c_double, lib=self.libm)
        self.assertEqual(sqrt(2.0), 2.0 ** 0.5)
        self.assertEqual(sqrt(9), 3.0)
        pow_ = self.func("pow", c_double, c_double, c_double, lib=self.libm)
        self.assertEqual(pow_(2, 10), 1024.0)
        powf = self.func("powf", c_float, c_float, c_float, lib=self.libm)
        self.assertEqual(powf(1.5, 2), 2.25)
        toupper = self.func("toupper", c_int, c_int)
        self.assertEqual(toupper(ord("a")), ord("A"))
        sqrtl = self.func("sqrtl", c_longdouble, c_longdouble, lib=self.libm)
        self.assertEqual(sqrtl(16), 4.0)
        strtoull = self.func("strtoull", c_ulonglong, c_char_p, c_void_p,
                             c_int)
        self.assertEqual(strtoull(b"18446744073709551615", None, 10),
                         2 ** 64 - 1)
        llabs = self.func("llabs", c_longlong, c_longlong)
        self.assertEqual(llabs(-(2 ** 62)), 2 ** 62)

    def test_the_process_namespace(self):
        me = CDLL(None)
        strlen = me.strlen
        strlen.restype = c_size_t
        self.assertEqual(strlen(b"four"), 4)  # no argtypes: bytes is char*

    def test_calls_without_argtypes_of_several_shapes(self):
        labs = self.libc["labs"]
        labs.restype = c_long
        self.assertEqual(labs(-5), 5)
        self.assertEqual(labs(-6), 6)  # the shape kept from the first
        self.assertEqual(labs(c_long(-2 ** 40)), 2 ** 40)
        self.assertEqual(labs(-7), 7)
        strchr = self.libc["strchr"]
        strchr.restype = c_char_p
        self.assertEqual(strchr(b"abc", 98), b"bc")
        self.assertEqual(strchr(b"abc", c_char(b"c")), b"c")
        self.assertEqual(strchr(b"xyz", 121), b"yz")
        with self.assertRaises(C.ArgumentError):
            labs(2 ** 64)

    def test_loaders_and_variables(self):
        lib = C.cdll.LoadLibrary(LIBC)
        self.assertIsInstance(lib, CDLL)
        self.assertIsInstance(C.pydll.LoadLibrary(LIBC), PyDLL)
        env = c_void_p.in_dll(lib, "environ")
        self.assertTrue(env.value)
        first = POINTER(c_char_p).from_address(addressof(env))[0]
        self.assertIn(b"=", first)
        strlen = lib.strlen
        self.assertIs(lib.strlen, strlen)  # attributes are cached
        self.assertIsNot(lib["strlen"], strlen)  # items are not
        addr = cast(strlen, c_void_p).value
        f = CFUNCTYPE(c_size_t, c_char_p)(addr)
        self.assertEqual(f(b"seven!!"), 7)

    def test_functions_by_signature_strings(self):
        strlen = self.libc.function("size_t strlen(const char *s)")
        self.assertEqual((strlen.restype, strlen.argtypes),
                         (c_size_t, (c_char_p,)))
        self.assertEqual(strlen(b"hello"), 5)
        snprintf = self.libc.function(
            "int snprintf(char *, size_t, const char *, ...)")
        buf = create_string_buffer(32)
        self.assertEqual(snprintf(buf, 32, b"%s=%d", b"x", 7), 3)
        self.assertEqual(buf.value, b"x=7")
        free = self.libc.function("void free(void *)")
        self.assertIsNone(free.restype)
        self.assertIsNone(free(None))
        with self.assertRaises(ValueError) as cm:
            self.libc.function("int strlen(")
        self.assertIn("column", str(cm.exception))
        with self.assertRaises(AttributeError):
            self.libc.function("int weft_no_such_function(void)")

    def test_strings_and_pointers_out(self):
        strchr = self.func("strchr", c_char_p, c_char_p, c_int)
        self.assertEqual(strchr(b"weft.ctypes", ord(".")), b".ctypes")
        self.assertIsNone(strchr(b"abc", ord("z")))
        strtol = self.func("strtol", c_long, c_char_p, POINTER(c_char_p),
                           c_int)
        end = c_char_p()
        self.assertEqual(strtol(b"123abc", byref(end), 10), 123)
        self.assertEqual(end.value, b"abc")
        self.assertEqual(strtol(b"ff", None, 16), 255)
        wcslen = self.func("wcslen", c_size_t, c_wchar_p)
        self.assertEqual(wcslen("h\u00e9llo"), 5)

    def test_variadic_call_shapes(self):
        snprintf = self.func("snprintf", c_int, c_char_p, c_size_t, c_char_p)
        buf = create_string_buffer(64)
        n = snprintf(buf, 64, b"%d|%s|%.2f|%ld|%c", 42, b"x", 2.5,
                     c_long(2 ** 40), c_char(b"q"))
        self.assertEqual(buf.value, b"42|x|2.50|1099511627776|q")
        self.assertEqual(n, len(buf.value))
        snprintf(buf, 64, b"%d|%s|%.2f|%ld|%c", -1, b"yy", 0.5, c_long(1),
                 c_char(b"r"))
        self.assertEqual(buf.value, b"-1|yy|0.50|1|r")
        snprintf(buf, 64, b"%s", b"only")
        self.assertEqual(buf.value, b"only")
        self.assertEqual(len(snprintf._shapes), 2)  # one function per shape
        snprintf(buf, 64, b"%ls", "wide \u00e9")
        self.assertEqual(buf.value, "wide \u00e9".encode("utf-8"))

    def test_repeated_call_shapes_take_their_plans(self):
        # a call the codes decline (an array, an instance, extra
        # arguments) is planned once per argument classes; later ones
        # follow the plan (in C on the SWIG backend)
        snprintf = self.func("snprintf", c_int, c_char_p, c_size_t, c_char_p)
        buf = create_string_buffer(64)
        shapes = [((b"%d %s", 7, b"x"), b"7 x"),
                  ((b"%u|%.1f|%p", 2 ** 32 - 1, 1.5, None),
                   b"4294967295|1.5|(nil)"),
                  ((b"%ls|%c|%hd", "w\u00e9", c_char(b"z"), c_short(-3)),
                   "w\u00e9|z|-3".encode("utf-8")),
                  ((b"%lld", c_longlong(-2 ** 40)), b"-1099511627776"),
                  ((b"%s", c_char_p(b"inst")), b"inst")]
        for _ in range(3):
            for extra, want in shapes + shapes[::-1]:
                with self.subTest(extra=extra):
                    buf.value = b""
                    self.assertEqual(snprintf(buf, 64, *extra), len(want))
                    self.assertEqual(buf.value, want)
        # an extra int is passed as a C int, masked, up to 64 bits
        for _ in range(2):
            snprintf(buf, 64, b"%d", 2 ** 64 - 1)
            self.assertEqual(buf.value, b"-1")
            for big in (2 ** 64, -2 ** 63 - 1):
                with self.assertRaises(C.ArgumentError) as cm:
                    snprintf(buf, 64, b"%d", big)
                self.assertIn("int too long", str(cm.exception))
        # the result's conversion and errcheck apply
        snprintf.errcheck = lambda r, f, a: (r, a[2])
        for _ in range(2):
            self.assertEqual(snprintf(buf, 64, b"%d", 12), (2, b"%d"))
        snprintf.errcheck = None
        snprintf.restype = c_short
        for _ in range(2):
            self.assertEqual(snprintf(buf, 64, b"%d", 12), 2)

    def test_planned_pointer_and_address_arguments(self):
        memcpy = self.func("memcpy", c_void_p, POINTER(c_int), POINTER(c_int),
                           c_size_t)
        strlen = self.func("strlen", c_size_t, c_char_p)
        strchr = self.func("strchr", c_char_p, c_void_p, c_int)
        for i in range(3):
            dst, src = c_int(0), c_int(40 + i)
            p = pointer(dst)
            self.assertEqual(memcpy(p, pointer(src), sizeof(c_int)),
                             addressof(dst))
            self.assertEqual(dst.value, 40 + i)
            arr = (c_int * 2)()
            memcpy(arr, pointer(src), sizeof(c_int))  # an array: its address
            self.assertEqual(arr[0], 40 + i)
            self.assertEqual(strlen(c_char_p(b"abc" * (i + 1))), 3 * (i + 1))
            self.assertEqual(strlen(create_string_buffer(b"xy", 8)), 2)
            self.assertEqual(strchr(c_char_p(b"hello"), ord("l")), b"llo")
            self.assertEqual(strchr(create_string_buffer(b"hi"), ord("i")),
                             b"i")
            q = create_string_buffer(b"q")
            self.assertIsNone(strchr(c_void_p(addressof(q)), ord("z")))

    def test_planned_fundamental_instances(self):
        labs = self.func("labs", c_long, c_long)
        abs_ = self.func("abs", c_int, c_int)
        fabs = self.func("fabs", c_double, c_double, lib=self.libm)
        fabsf = self.func("fabsf", c_float, c_float, lib=self.libm)
        for _ in range(3):
            self.assertEqual(abs_(c_int(-5)), 5)
            self.assertEqual(abs_(c_int32(-6)), 6)
            self.assertEqual(abs_(c_uint(2 ** 32 - 7)), 7)  # masked, as C
            self.assertEqual(labs(c_long(-2 ** 40)), 2 ** 40)
            self.assertEqual(labs(c_longlong(-3)), 3)  # the same size
            self.assertEqual(labs(c_ulong(2 ** 64 - 9)), 9)  # from_param's
            self.assertEqual(fabs(c_double(-2.5)), 2.5)
            self.assertEqual(fabs(c_float(-0.5)), 0.5)
            self.assertEqual(fabsf(c_double(-1.25)), 1.25)
            with self.assertRaises(C.ArgumentError):  # not the same size
                abs_(c_short(-1))
            with self.assertRaises(C.ArgumentError):
                fabs(c_int(1))

            class MyInt(c_int):  # not plain: through from_param
                pass
            self.assertEqual(abs_(MyInt(-8)), 8)
        snprintf = self.func("snprintf", c_int, c_char_p, c_size_t, c_char_p)
        buf = create_string_buffer(32)
        for _ in range(2):
            snprintf(buf, 32, b"%hhd %d %.1f", c_byte(-3), c_int(9),
                     c_float(0.5))
            self.assertEqual(buf.value, b"-3 9 0.5")

    def test_a_closed_library_refuses_planned_calls(self):
        lib = libc()
        snprintf = lib.snprintf
        snprintf.argtypes = [c_char_p, c_size_t, c_char_p]
        buf = create_string_buffer(16)
        for _ in range(2):
            self.assertEqual(snprintf(buf, 16, b"%d", 5), 1)
        lib.close()
        for _ in range(2):
            with self.assertRaises(weft.BadHandleError):
                snprintf(buf, 16, b"%d", 5)

    def test_struct_results(self):
        class div_t(Structure):
            _fields_ = [("quot", c_int), ("rem", c_int)]

        class ldiv_t(Structure):
            _fields_ = [("quot", c_long), ("rem", c_long)]
        div = self.func("div", div_t, c_int, c_int)
        d = div(17, 5)
        self.assertIsInstance(d, div_t)
        self.assertEqual((d.quot, d.rem), (3, 2))
        ldiv = self.func("ldiv", ldiv_t, c_long, c_long)
        d = ldiv(-(2 ** 40) - 3, 2 ** 20)
        self.assertEqual((d.quot, d.rem), (-(2 ** 20), -3))

    def test_struct_arguments(self):
        class in_addr(Structure):
            _fields_ = [("s_addr", c_uint32)]
        inet_ntoa = self.func("inet_ntoa", c_char_p, in_addr)
        a = in_addr(int.from_bytes(bytes([127, 0, 0, 1]), sys.byteorder))
        self.assertEqual(inet_ntoa(a), b"127.0.0.1")
        with self.assertRaises(C.ArgumentError):
            inet_ntoa(5)

    def test_errcheck_and_callable_restype(self):
        strlen = self.func("strlen", c_size_t, c_char_p)
        seen = []

        def check(result, func, args):
            seen.append((result, func, args))
            return result * 2
        strlen.errcheck = check
        self.assertEqual(strlen(b"abc"), 6)
        self.assertEqual(seen, [(3, strlen, (b"abc",))])
        abs_ = self.libc["abs"]
        abs_.restype = lambda v: "got %d" % v
        self.assertEqual(abs_(-4), "got 4")

    def test_instances_and_plain_values_give_the_same_result(self):
        labs = self.func("labs", c_long, c_long)
        self.assertEqual(labs(-9), labs(c_long(-9)))

        class Wrapped(object):
            _as_parameter_ = -11
        self.assertEqual(labs(Wrapped()), 11)
        buf = create_string_buffer(16)
        snprintf = self.func("snprintf", c_int, c_char_p, c_size_t, c_char_p)

        class Short(object):
            def __init__(self, v):
                self._as_parameter_ = c_short(v)
        for v in (3, -4):  # extra arguments: promoted, never a kept plan
            snprintf(buf, 16, b"%d", Short(v))
            self.assertEqual(buf.value, b"%d" % v)

    def test_errno(self):
        open_ = self.func("open", c_int, c_char_p, c_int)
        C.set_errno(0)
        self.assertEqual(open_(b"/nonexistent/weft", 0), -1)
        self.assertEqual(C.get_errno(), errno.ENOENT)
        self.assertEqual(C.set_errno(errno.EPERM), errno.ENOENT)
        self.assertEqual(C.get_errno(), errno.EPERM)
        strtol = self.func("strtol", c_long, c_char_p, c_void_p, c_int)
        C.set_errno(0)
        strtol(b"9" * 40, None, 10)
        self.assertEqual(C.get_errno(), errno.ERANGE)

    def test_errno_is_per_thread(self):
        C.set_errno(7)
        got = []
        t = threading.Thread(target=lambda: got.append(C.get_errno()))
        t.start()
        t.join()
        self.assertEqual(got, [0])
        self.assertEqual(C.get_errno(), 7)

    def test_without_use_errno_the_saved_errno_stays(self):
        plain = libc()
        open_ = plain["open"]
        open_.argtypes = [c_char_p, c_int]
        C.set_errno(0)
        self.assertEqual(open_(b"/nonexistent/weft", 0), -1)
        self.assertEqual(C.get_errno(), 0)

    def test_cdll_releases_the_gil(self):
        usleep = self.func("usleep", c_int, c_uint)
        counted = []
        stop = []

        def count():
            n = 0
            while not stop:
                n += 1
                time.sleep(0.001)
            counted.append(n)
        t = threading.Thread(target=count)
        t.start()
        usleep(300000)
        stop.append(1)
        t.join()
        self.assertGreater(counted[0], 0)

    def test_pydll_calls(self):
        p = PyDLL(LIBC)
        strlen = p.strlen
        strlen.argtypes = [c_char_p]
        strlen.restype = c_size_t
        self.assertEqual(strlen(b"gil"), 3)

    def test_threads_calling_a_fresh_function_at_once(self):
        for _ in range(5):
            labs = self.libc["labs"]
            labs.argtypes = [c_long]
            labs.restype = c_long
            out = []
            threads = [threading.Thread(
                target=lambda k=k: out.append(labs(-k)))
                for k in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(sorted(out), list(range(8)))

    def test_argtypes_may_change(self):
        f = self.libc["labs"]
        f.argtypes = [c_long]
        f.restype = c_long
        self.assertEqual(f(-3), 3)
        f.restype = c_int
        self.assertEqual(f(-(2 ** 32) - 2), 2)


class Callbacks(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.libc = libc()

    def test_qsort(self):
        CMP = CFUNCTYPE(c_int, POINTER(c_int), POINTER(c_int))
        qsort = self.libc["qsort"]
        qsort.argtypes = [c_void_p, c_size_t, c_size_t, CMP]
        qsort.restype = None
        calls = []

        def cmp(a, b):
            calls.append(1)
            return a[0] - b[0]
        arr = (c_int * 8)(5, 1, 4, 2, 3, 0, 7, 6)
        cb = CMP(cmp)
        qsort(arr, len(arr), sizeof(c_int), cb)
        self.assertEqual(list(arr), list(range(8)))
        self.assertGreater(len(calls), 0)

    def test_a_pointer_argument_kept_by_the_callback_stays_valid(self):
        CMP = CFUNCTYPE(c_int, POINTER(c_int), POINTER(c_int))
        qsort = self.libc["qsort"]
        qsort.argtypes = [c_void_p, c_size_t, c_size_t, CMP]
        qsort.restype = None
        kept = []

        def cmp(a, b):
            kept.append(a)
            return a[0] - b[0]
        arr = (c_int * 4)(40, 10, 30, 20)
        qsort(arr, 4, sizeof(c_int), CMP(cmp))
        self.assertEqual(list(arr), [10, 20, 30, 40])
        for p in kept:  # C's stack is gone: each has memory of its own
            self.assertIn(p[0], (10, 20, 30, 40))
            self.assertNotEqual(cast(p, c_void_p).value, None)

    def test_qsort_with_void_pointers(self):
        CMP = CFUNCTYPE(c_int, c_void_p, c_void_p)
        qsort = self.libc["qsort"]
        qsort.argtypes = [c_void_p, c_size_t, c_size_t, CMP]
        qsort.restype = None
        words = (c_double * 5)(3.5, -1.0, 2.25, 0.0, 10.0)

        def cmp(a, b):
            x = c_double.from_address(a).value
            y = c_double.from_address(b).value
            return (x > y) - (x < y)
        qsort(words, 5, sizeof(c_double), CMP(cmp))
        self.assertEqual(list(words), [-1.0, 0.0, 2.25, 3.5, 10.0])

    def test_a_callback_called_from_a_thread_libc_starts(self):
        START = CFUNCTYPE(c_void_p, c_void_p)
        # From the process's namespace, as a C program would call them: a
        # sanitizer's runtime, when preloaded, must see the thread start
        # and end (libc's own, looked up in libc, bypass it).
        pthread_create = CDLL(None)["pthread_create"]
        pthread_create.argtypes = [POINTER(c_ulong), c_void_p, START,
                                   c_void_p]
        pthread_join = CDLL(None)["pthread_join"]
        pthread_join.argtypes = [c_ulong, POINTER(c_void_p)]
        seen = []

        def start(arg):
            seen.append((arg, threading.get_ident()))
            return arg + 1
        cb = START(start)
        tid = c_ulong()
        self.assertEqual(pthread_create(byref(tid), None, cb, 1234), 0)
        result = c_void_p()
        self.assertEqual(pthread_join(tid.value, byref(result)), 0)
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0][0], 1234)
        self.assertNotEqual(seen[0][1], threading.get_ident())
        self.assertEqual(result.value, 1235)

    def test_callbacks_from_many_threads_at_once(self):
        START = CFUNCTYPE(c_void_p, c_void_p)
        # From the process's namespace, as a C program would call them: a
        # sanitizer's runtime, when preloaded, must see the thread start
        # and end (libc's own, looked up in libc, bypass it).
        pthread_create = CDLL(None)["pthread_create"]
        pthread_create.argtypes = [POINTER(c_ulong), c_void_p, START,
                                   c_void_p]
        pthread_join = CDLL(None)["pthread_join"]
        pthread_join.argtypes = [c_ulong, c_void_p]
        lock = threading.Lock()
        total = []

        def start(arg):
            for _ in range(100):
                with lock:
                    total.append(arg)
            return None
        cb = START(start)
        tids = [c_ulong() for _ in range(4)]
        for i, t in enumerate(tids):
            self.assertEqual(pthread_create(byref(t), None, cb, i + 1), 0)
        for t in tids:
            pthread_join(t.value, None)
        self.assertEqual(len(total), 400)
        self.assertEqual(sorted(set(total)), [1, 2, 3, 4])

    def test_calling_a_callback_through_c(self):
        ADD = CFUNCTYPE(c_double, c_int, c_double, c_char_p)
        add = ADD(lambda i, d, s: i + d + len(s))
        self.assertEqual(add(1, 2.5, b"abc"), 6.5)
        self.assertNotEqual(cast(add, c_void_p).value, None)

    def test_structs_by_value_in_a_callback(self):
        class Pt(Structure):
            _fields_ = [("x", c_int), ("y", c_double)]
        SWAP = CFUNCTYPE(Pt, Pt, c_int)

        def swap(p, k):
            self.assertIsInstance(p, Pt)
            return Pt(int(p.y) * k, float(p.x))
        f = SWAP(swap)
        r = f(Pt(3, 4.0), 10)
        self.assertIsInstance(r, Pt)
        self.assertEqual((r.x, r.y), (40, 3.0))

    def test_function_pointers_in_structs_and_unions_by_value(self):
        CB = CFUNCTYPE(c_int, c_int)

        class S(Structure):
            _fields_ = [("f", CB), ("x", c_int)]
        s = S(CB(lambda v: v * 3), 5)
        self.assertEqual((s.f(7), s.x), (21, 5))  # s keeps the closure
        s.f = None
        self.assertFalse(s.f)

        class U(Union):
            _fields_ = [("i", c_int), ("f", c_float)]
        ident = CFUNCTYPE(U, U)(lambda u: u)
        u = U()
        u.f = 1.5
        self.assertEqual(ident(u).f, 1.5)

    def test_an_exception_in_a_callback_is_unraisable_and_returns_zero(self):
        CB = CFUNCTYPE(c_int, c_int)

        def boom(x):
            raise RuntimeError("boom %d" % x)
        f = CB(boom)
        got = []
        old = sys.unraisablehook
        sys.unraisablehook = got.append
        try:
            self.assertEqual(f(5), 0)
        finally:
            sys.unraisablehook = old
        self.assertEqual(len(got), 1)
        self.assertIsInstance(got[0].exc_value, RuntimeError)

    # a value of each fundamental, as its argument, result and what a
    # POINTER to it reads
    SAMPLES = {"c_bool": True, "c_char": b"q", "c_wchar": "\u00e9",
               "c_byte": -5, "c_ubyte": 200, "c_short": -300,
               "c_ushort": 60000, "c_int": -7, "c_uint": 2 ** 32 - 1,
               "c_long": -2 ** 40, "c_ulong": 2 ** 64 - 1,
               "c_longlong": -2 ** 62, "c_ulonglong": 2 ** 64 - 1,
               "c_size_t": 2 ** 63, "c_ssize_t": -2, "c_float": 1.5,
               "c_double": -2.25, "c_longdouble": 0.5, "c_char_p": b"str",
               "c_wchar_p": "w\u00e9", "c_void_p": 0x1234, "c_int8": -128,
               "c_uint8": 255, "c_int16": -2, "c_uint16": 65535,
               "c_int32": -2 ** 31, "c_uint32": 2 ** 31,
               "c_int64": -2 ** 63, "c_uint64": 2 ** 64 - 2}

    def test_every_fundamental_through_a_callback(self):
        for name in FUNDAMENTALS:
            t, v = getattr(C, name), self.SAMPLES[name]
            want = t(v).value
            with self.subTest(name):
                got = []
                if name not in ("c_char_p", "c_wchar_p"):
                    echo = CFUNCTYPE(t, t)(lambda x: got.append(x) or x)
                    for _ in range(2):
                        self.assertEqual(echo(v), want)
                    self.assertEqual(got, [want, want])
                    self.assertIs(type(got[0]), type(want))
                del got[:]
                # a POINTER(T) argument: p[0], p.contents, through C
                seen = CFUNCTYPE(c_int, POINTER(t))(
                    lambda p: got.append((p[0], p.contents.value)) or 1)
                x = t(v)
                for _ in range(2):
                    self.assertEqual(seen(pointer(x)), 1)
                    self.assertEqual(seen(byref(x)), 1)
                self.assertEqual(got, [(want, want)] * 4)
                self.assertIs(type(got[0][0]), type(want))
                raised = []
                old = sys.unraisablehook
                sys.unraisablehook = raised.append
                try:
                    self.assertEqual(seen(None), 0)  # p[0] of NULL
                finally:
                    sys.unraisablehook = old
                self.assertEqual(len(raised), 1)
                self.assertIsInstance(raised[0].exc_value, ValueError)

    def test_pointer_indexing(self):
        arr = (c_short * 5)(10, -20, 30, -40, 50)
        for t in (POINTER(c_short), POINTER(c_int16)):
            p = cast(byref(arr, sizeof(c_short)), t)
            self.assertEqual([p[-1], p[0], p[1], p[3]], [10, -20, 30, 50])
            self.assertEqual(p[0:3], [-20, 30, -40])
            self.assertEqual(p[True], 30)  # a bool is an int (Python's)
            with self.assertRaises(TypeError):
                p["0"]
        d = (c_double * 2)(0.25, -8.0)
        self.assertEqual(cast(d, POINTER(c_double))[1], -8.0)
        with self.assertRaises(ValueError):
            POINTER(c_int)()[0]
        with self.assertRaises(OverflowError):
            cast(arr, POINTER(c_short))[2 ** 70]

        P = POINTER(c_short)
        P.__getitem__ = lambda self, i: ("mine", i)  # a class's own wins
        try:
            self.assertEqual(cast(arr, P)[1], ("mine", 1))
        finally:
            del P.__getitem__
        self.assertEqual(cast(arr, P)[1], -20)

        class Sub(c_int):  # not plain: p[0] is the instance
            pass
        q = pointer(Sub(9))
        self.assertIsInstance(q[0], Sub)
        self.assertEqual(q[0].value, 9)

        class Pt(Structure):
            _fields_ = [("x", c_int), ("y", c_int)]
        pts = (Pt * 2)(Pt(1, 2), Pt(3, 4))
        pp = cast(pts, POINTER(Pt))
        self.assertEqual((pp[1].x, pp[1].y), (3, 4))

    def test_an_exception_in_a_pointer_callback(self):
        CMP = CFUNCTYPE(c_int, POINTER(c_int), POINTER(c_int))
        qsort = self.libc["qsort"]
        qsort.argtypes = [c_void_p, c_size_t, c_size_t, CMP]
        qsort.restype = None
        kept = []

        def cmp(a, b):
            kept.append(a)
            raise KeyError(a[0])
        got = []
        old = sys.unraisablehook
        sys.unraisablehook = got.append
        try:
            arr = (c_int * 3)(3, 1, 2)
            qsort(arr, 3, sizeof(c_int), CMP(cmp))
            bad = CFUNCTYPE(c_int, POINTER(c_int))(lambda p: p[0] + "x")
            self.assertEqual(bad(pointer(c_int(4))), 0)
            self.assertEqual(CFUNCTYPE(c_int, c_int)(lambda v: "no")(1), 0)
        finally:
            sys.unraisablehook = old
        self.assertEqual(sorted(arr), [1, 2, 3])  # every comparison was 0
        self.assertGreaterEqual(len(got), 3)
        self.assertIsInstance(got[0].exc_value, KeyError)
        self.assertIsInstance(got[-2].exc_value, TypeError)
        self.assertIsInstance(got[-1].exc_value, TypeError)
        for p in kept:  # kept across the exception: memory of their own
            self.assertIn(p[0], (1, 2, 3))

    def test_pointer_arguments_are_fresh_in_every_call(self):
        # a view the callable did not keep may serve the next call (the
        # SWIG backend): nothing may tell it from a new one
        import weakref
        CB = CFUNCTYPE(c_int, POINTER(c_int))
        refs, states = [], []

        def cb(p):
            v = p[0]
            states.append((p._objects, p._b_base_, p._b_buf_, v))
            if v == 1:
                refs.append(weakref.ref(p))
            if v == 2:
                p.contents = c_int(99)  # C's own argument, then dropped
            return v
        f = CB(cb)
        for v in (1, 2, 3, 2, 1, 3):
            self.assertEqual(f(pointer(c_int(v))), v)
        self.assertEqual(states, [(None, None, None, v)
                                  for v in (1, 2, 3, 2, 1, 3)])
        self.assertEqual([r() for r in refs], [None, None])

    def test_a_callback_used_by_many_calls(self):
        CMP = CFUNCTYPE(c_int, POINTER(c_int), POINTER(c_int))
        qsort = self.libc["qsort"]
        qsort.argtypes = [c_void_p, c_size_t, c_size_t, CMP]
        qsort.restype = None
        cb = CMP(lambda a, b: a[0] - b[0])
        for n in range(1, 40):
            arr = (c_int * n)(*range(n, 0, -1))
            qsort(arr, n, sizeof(c_int), cb)
            self.assertEqual(list(arr), list(range(1, n + 1)))

    def test_closures_and_functions_leave_nothing_behind(self):
        import gc

        def registered():
            if weft.backend == "swig":
                return weft.lib.cell_count()
            from weft import _ffi_ctypes
            return len(_ffi_ctypes._closures)
        CB = CFUNCTYPE(c_int, POINTER(c_int))
        gc.collect()
        before = registered()
        made = [CB(lambda p: p[0]) for _ in range(50)]
        self.assertEqual(registered(), before + 50)
        for f in made[:5]:
            self.assertEqual(f(pointer(c_int(4))), 4)
        del made, f
        gc.collect()
        self.assertEqual(registered(), before)

    def test_a_callback_is_released_with_its_object(self):
        import gc
        import weakref
        CB = CFUNCTYPE(c_int, c_int)

        def fn(x):
            return x
        ref = weakref.ref(fn)
        f = CB(fn)
        self.assertEqual(f(3), 3)
        del f, fn
        gc.collect()
        self.assertIsNone(ref())


FFTEST = os.environ.get("WEFT_FFTEST_LIB", "")


def _fields(spec):
    """Structure fields from (name, type, array length or 0, nested
    spec) entries."""
    out = []
    for name, t, n in spec:
        if isinstance(t, list):
            class In(Structure):
                _fields_ = _fields(t)
            t = In
        out.append((name, t * n if n else t))
    return out


def _flat(obj):
    """The scalars of a struct instance in declaration order."""
    out = []
    for name, t in obj._fields_:
        v = getattr(obj, name)
        if isinstance(v, Structure):
            out += _flat(v)
        elif isinstance(v, C.Array):
            out += list(v)
        else:
            out.append(v)
    return out


# tests/ffi/fftest.h's structs (a char field as c_byte: the same size and
# class, and the values are small enough for either signedness)
FT_STRUCTS = {
    "s1": [("a", c_byte, 0)],
    "s2": [("a", c_short, 0), ("b", c_byte, 0)],
    "sc3": [("a", c_byte, 3)], "sc7": [("a", c_byte, 7)],
    "sf1": [("a", c_float, 0)], "sf2": [("a", c_float, 0), ("b", c_float, 0)],
    "sic": [("a", c_int, 0), ("b", c_byte, 0)],
    "sdi": [("a", c_double, 0), ("b", c_int, 0)],
    "sfif": [("a", c_float, 0), ("b", c_int, 0), ("c", c_float, 0)],
    "sdd": [("a", c_double, 0), ("b", c_double, 0)],
    "sdf": [("a", c_double, 0), ("b", c_float, 0)],
    "sfffc": [("a", c_float, 0), ("b", c_float, 0), ("c", c_float, 0),
              ("d", c_byte, 0)],
    "sf3": [("a", c_float, 0), ("b", c_float, 0), ("c", c_float, 0)],
    "si5": [("a", c_int, 5)], "sd4": [("a", c_double, 4)],
    "sld": [("a", c_longdouble, 0)],
    "snest": [("a", c_byte, 0), ("in_", [("b", c_short, 0),
                                        ("c", c_float, 0)], 0)],
    "snf": [("a", [("a", c_float, 0), ("b", c_float, 0)], 0),
            ("b", c_float, 0)],
    "s17": [("a", c_byte, 17)],
    "s24": [("a", c_double, 0), ("b", c_long, 0), ("c", c_float, 0),
            ("d", c_int, 0)],
    "s32": [("a", c_float, 8)],
    "s48": [("a", c_int, 0), ("b", c_double, 3), ("c", c_byte, 9)],
    "s64": [("a", c_double, 4), ("b", c_long, 4)],
    "s80": [("a", c_double, 9), ("b", c_byte, 0)],
}


@unittest.skipUnless(os.path.exists(FFTEST), "no $WEFT_FFTEST_LIB")
class TestLibrary(unittest.TestCase):
    """tests/ffi/fftest.c, the engine's test library: structs by value of
    1 to 80 bytes with float/int mixes both ways, variadic sums, callbacks
    with structs and from several threads at once."""

    @classmethod
    def setUpClass(cls):
        cls.lib = CDLL(FFTEST)
        cls.types = {}
        for name, spec in FT_STRUCTS.items():
            cls.types[name] = type("ft_" + name, (Structure,),
                                   {"_fields_": _fields(spec)})

    def test_struct_sizes_are_the_compilers(self):
        sizes = {"s1": 1, "s2": 4, "sc3": 3, "sc7": 7, "sf1": 4, "sf2": 8,
                 "sic": 8, "sdi": 16, "sfif": 12, "sdd": 16, "sdf": 16,
                 "sfffc": 16, "sf3": 12, "si5": 20, "sd4": 32, "sld": 16,
                 "snest": 12, "snf": 12, "s17": 17, "s24": 24, "s32": 32,
                 "s48": 48, "s64": 64, "s80": 80}
        self.assertEqual({n: sizeof(t) for n, t in self.types.items()},
                         sizes)

    def test_structs_by_value_both_ways(self):
        for name, S in self.types.items():
            with self.subTest(name):
                make = self.lib.function("void *ft_make_%s(int)" % name)
                make.restype = S
                bump = self.lib["ft_bump_" + name]
                bump.argtypes = [S]
                bump.restype = S
                total = self.lib["ft_sum_" + name]
                total.argtypes = [S]
                total.restype = c_double
                mid = self.lib["ft_mid_" + name]
                mid.argtypes = [c_int, S, c_double]
                mid.restype = c_double
                x = make(3)
                n = len(_flat(x))
                self.assertEqual(_flat(x), list(range(3, 3 + n)))
                want = sum((j + 1) * (3 + j) for j in range(n))
                self.assertEqual(total(x), want)
                self.assertEqual(_flat(bump(x)), list(range(4, 4 + n)))
                self.assertEqual(_flat(x), list(range(3, 3 + n)))
                self.assertEqual(mid(2, x, 0.5), 2 + 2 * want + 1.5)

    def test_union_and_packed_struct(self):
        class ufd(Union):
            _fields_ = [("f", c_float), ("d", c_double)]

        class packed(Structure):
            _pack_ = 1
            _fields_ = [("a", c_byte), ("b", c_int)]
        make = self.lib.ft_ufd_make
        make.argtypes = [c_int, c_double]
        make.restype = ufd
        get = self.lib.ft_ufd_get
        get.argtypes = [c_int, ufd]
        get.restype = c_double
        self.assertEqual(make(1, 1e100).d, 1e100)
        self.assertEqual(get(1, make(1, 2.5)), 2.5)
        self.assertEqual(get(0, make(0, 1.5)), 1.5)
        self.assertEqual(sizeof(packed), 5)
        f = self.lib.function("int ft_sum_packed(void *)")
        f.argtypes = [packed]
        # libffi cannot place its int (docs/ffi.md): the engine refuses
        # the signature, a ValueError, rather than pass it wrong
        with self.assertRaises(ValueError):
            f(packed(3, 40))

    def test_variadic(self):
        vsum = self.lib.function("double ft_vsum(const char *, ...)")
        self.assertEqual(vsum(b"ilds", 1, c_long(2), 3.0, b"ab"),
                         1 + 4 + 9 + 8)
        vsumd = self.lib.function("double ft_vsumd(int, ...)")
        self.assertEqual(vsumd(3, 1.0, 2.0, c_float(3.0)), 1 + 4 + 9)

    def test_callbacks_with_structs(self):
        sdi, s80 = self.types["sdi"], self.types["s80"]
        CB = CFUNCTYPE(sdi, sdi, c_int)
        call = self.lib.ft_call_sdi
        call.argtypes = [CB, sdi, c_int]
        call.restype = sdi
        r = call(CB(lambda x, k: sdi(x.a * k, x.b + k)), sdi(1.5, 2), 4)
        self.assertEqual((r.a, r.b), (6.0, 6))
        CB80 = CFUNCTYPE(s80, s80)

        def twice(x):
            y = s80()
            for j in range(9):
                y.a[j] = 2 * x.a[j]
            y.b = x.b + 1
            return y
        call80 = self.lib.ft_call_s80
        call80.argtypes = [CB80, s80]
        call80.restype = s80
        x = s80()
        x.a[:] = [float(j) for j in range(9)]
        x.b = 7
        r = call80(CB80(twice), x)
        self.assertEqual(list(r.a), [2.0 * j for j in range(9)])
        self.assertEqual(r.b, 8)

    def test_a_callback_from_many_c_threads(self):
        CB = CFUNCTYPE(c_int, c_int)
        lock = threading.Lock()
        idents = set()

        def cb(x):
            with lock:
                idents.add(threading.get_ident())
            return x + 1
        f = self.lib.ft_call_in_threads
        f.argtypes = [CB, c_int, c_int, c_int]
        f.restype = c_long
        # each thread: cb(5 + i) for i < 100
        self.assertEqual(f(CB(cb), 5, 100, 4),
                         4 * sum(5 + i + 1 for i in range(100)))
        self.assertGreaterEqual(len(idents), 2)
        self.assertNotIn(threading.get_ident(), idents)

    def test_errno_and_strings(self):
        lib = CDLL(FFTEST, use_errno=True)
        set_ = lib.function("int ft_set_errno(int)")
        get = lib.function("int ft_get_errno(void)")
        C.set_errno(0)
        self.assertEqual(set_(errno.EIO), -1)
        self.assertEqual(C.get_errno(), errno.EIO)
        C.set_errno(errno.EAGAIN)
        self.assertEqual(get(), errno.EAGAIN)
        upper = lib.function("char *ft_upper(char *, size_t, const char *)")
        buf = create_string_buffer(8)
        self.assertEqual(upper(buf, 8, b"weft!"), b"WEFT!")
        self.assertEqual(lib.function("const char *ft_greeting(void)")(),
                         b"hello, weft")
        self.assertIsNone(lib.function("void *ft_null(void)")())


class LowLevel(unittest.TestCase):
    """The engine's functions in weft.lib, by the usual rules."""

    def test_a_generic_closure_handler_gets_two_addresses(self):
        lib = weft.lib
        i = lib.ffi_type_named("int")
        sig = lib.ffi_function_new(None, i, [i, i], 0, 0, 0)
        got = []

        def handler(ret, args):
            got.append((ret, args))
            a = lib.ffi_read_int(lib.ffi_read_int(args, 0, ord("P")), 0,
                                 ord("i"))
            b = lib.ffi_read_int(lib.ffi_read_int(args, 8, ord("P")), 0,
                                 ord("i"))
            lib.ffi_write_int(ret, 0, ord("i"), a * b)
        clo = lib.ffi_closure_new(sig, handler)
        try:
            f = CFUNCTYPE(c_int, c_int, c_int)(lib.ffi_closure_address(clo))
            self.assertEqual(f(6, 7), 42)
            self.assertEqual(len(got), 1)
            self.assertIsInstance(got[0][0], int)
            self.assertIsInstance(got[0][1], int)
        finally:
            lib.close(clo)
            lib.forget(handler)
            lib.close(sig)
            lib.close(i)

    def test_a_forgotten_handler_is_not_called_again(self):
        # the cell a callback found last is kept for its next call, and
        # forgetting the callable forgets that too
        lib = weft.lib
        i = lib.ffi_type_named("int")
        sig = lib.ffi_function_new(None, i, [i], 0, 0, 0)
        got = []

        def handler(ret, args):
            got.append(1)
            lib.ffi_write_int(ret, 0, ord("i"), 7)

        def other(ret, args):
            lib.ffi_write_int(ret, 0, ord("i"), 8)
        clo = lib.ffi_closure_new(sig, handler)
        clo2 = lib.ffi_closure_new(sig, other)
        try:
            F = CFUNCTYPE(c_int, c_int)
            f = F(lib.ffi_closure_address(clo))
            g = F(lib.ffi_closure_address(clo2))
            self.assertEqual((f(1), f(2), g(3), f(4)), (7, 7, 8, 7))
            lib.forget(handler)
            self.assertEqual(f(5), 0)  # nothing registered: nothing runs
            self.assertEqual(g(6), 8)
            self.assertEqual(f(7), 0)
            self.assertEqual(len(got), 3)
        finally:
            lib.close(clo)
            lib.close(clo2)
            lib.forget(other)
            lib.close(sig)
            lib.close(i)

    def test_types_and_layouts(self):
        lib = weft.lib
        st = lib.ffi_struct_new(0, 0, 0)
        c = lib.ffi_type_named("char")
        d = lib.ffi_type_named("double")
        lib.ffi_struct_add(st, "c", c, -1)
        lib.ffi_struct_add(st, "d", d, -1)
        lib.ffi_struct_finish(st)
        self.assertEqual(lib.ffi_type_size(st), 16)
        self.assertEqual(lib.ffi_struct_field_layout(st, 1), (8, 8, 0, -1))
        self.assertEqual(lib.ffi_type_name(st), "struct")
        a = lib.ffi_alloc(16)
        lib.ffi_struct_set_double(st, 1, a, 2.5)
        self.assertEqual(lib.ffi_struct_get_double(st, 1, a), 2.5)
        self.assertEqual(lib.ffi_string_at(a + 8, 8, 1),
                         bytes(c_double(2.5)))  # grown on WEFT_ERANGE
        lib.ffi_free(a)
        for h in (st, c, d):
            lib.close(h)

    @unittest.skipUnless(weft.backend == "swig", "the SWIG module's")
    def test_the_private_entries_check_what_they_can(self):
        from weft import _weft_swig as sw
        lib = weft.lib
        i = lib.ffi_type_named("int")
        sig = lib.ffi_function_new(None, i, [i], 0, 0, 0)
        try:
            with self.assertRaises(ValueError):  # 2 codes, 1 argument
                sw.ffi_closure_new_py(sig, lambda a, b: 0, b"iii", 0)
            with self.assertRaises(TypeError):
                sw.ffi_closure_new_py(sig, 5, b"ii", 0)
            with self.assertRaises(TypeError):
                sw.ffi_call_py(sig, "not bytes", ())
            with self.assertRaises(ValueError):  # an unknown code
                sw.ffi_call_py(sig, b"iB%", (1,))
            with self.assertRaises(weft.StateError):  # no address
                sw.ffi_call_py(sig, b"iBi", (1,))
            self.assertIs(sw.ffi_call_py(sig, b"iAi", ()), NotImplemented)
            with self.assertRaises(TypeError):
                sw.ffi_call_py(sig, b"iBi", ("x",))
            with self.assertRaises(TypeError):
                sw.ffi_setup(int, int, int, None)
            with self.assertRaises(TypeError):  # not a weft.ctypes class
                sw.ffi_setup(C._CData, C.CFuncPtr, int, len)
            with self.assertRaises(TypeError):
                sw.ffi_pointer_class(int)
            f = C.CDLL(LIBC).strlen
            f.argtypes = [c_char_p]
            self.assertEqual(f(b"abc"), 3)
            f._cplans = {(bytearray,): (0, b"LA", b"")}  # a malformed plan
            with self.assertRaises(C.ArgumentError):  # the Python path's
                f(bytearray(b"x"))
            f._cplans = {(type(create_string_buffer(2)),):
                         (f._h, f._strict, b"7")}
            with self.assertRaises(SystemError):  # a bad kind
                f(create_string_buffer(2))
        finally:
            lib.close(sig)
            lib.close(i)

    def test_ffi_call_is_not_bound(self):
        self.assertFalse(hasattr(weft.lib, "ffi_call"))


class BadInput(unittest.TestCase):

    def setUp(self):
        self.libc = libc()

    def test_wrong_argument_count(self):
        strlen = self.libc.strlen
        strlen.argtypes = [c_char_p]
        with self.assertRaises(TypeError) as cm:
            strlen()
        self.assertIn("at least 1 argument", str(cm.exception))

    def test_wrong_argument_types(self):
        strlen = self.libc.strlen
        strlen.argtypes = [c_char_p]
        for bad in ["str", 1.5, [1], c_int(1)]:
            with self.subTest(bad=bad):
                with self.assertRaises(C.ArgumentError) as cm:
                    strlen(bad)
                self.assertIsInstance(cm.exception, TypeError)
                self.assertTrue(str(cm.exception).startswith("argument 1:"))
        labs = self.libc.labs
        labs.argtypes = [c_long]
        with self.assertRaises(TypeError):
            labs(1.5)
        p = self.libc["free"]
        p.argtypes = [POINTER(c_int)]
        with self.assertRaises(C.ArgumentError):
            p(5)  # an int is not a POINTER(c_int), as in ctypes
        with self.assertRaises(C.ArgumentError):
            self.libc.abs(object())  # no argtypes, no conversion

    def test_a_function_pointer_argument_takes_no_bytes(self):
        CMP = CFUNCTYPE(c_int, c_void_p, c_void_p)
        qsort = self.libc["qsort"]
        qsort.argtypes = [c_void_p, c_size_t, c_size_t, CMP]
        arr = (c_int * 2)()
        for bad in [b"code", "code", lambda a, b: 0, 1.5]:
            with self.subTest(bad=bad):
                with self.assertRaises(C.ArgumentError):
                    qsort(arr, 2, 4, bad)

    def test_keyword_arguments(self):
        with self.assertRaises(TypeError):
            self.libc.abs(x=1)

    def test_a_closed_library(self):
        lib = libc()
        strlen = lib.strlen
        strlen.argtypes = [c_char_p]
        self.assertEqual(strlen(b"ab"), 2)
        lower = lib["tolower"]
        lib.close()
        with self.assertRaises(weft.BadHandleError):
            strlen(b"ab")
        with self.assertRaises(weft.BadHandleError):
            lower(65)
        with self.assertRaises(weft.BadHandleError):
            lib.strchr

    def test_missing_library_and_symbol(self):
        with self.assertRaises(OSError):
            CDLL("libweft-no-such-library.so")
        with self.assertRaises(AttributeError):
            self.libc.weft_no_such_function

    def test_bad_types(self):
        with self.assertRaises(TypeError):
            class S(Structure):
                _fields_ = [("a", int)]
        with self.assertRaises(TypeError):
            class T(Structure):
                _fields_ = [("a",)]
        with self.assertRaises(TypeError):
            self.libc.strlen.argtypes = [std.c_char_p]  # another ctypes'
        with self.assertRaises(TypeError):
            self.libc.strlen.restype = 5
        with self.assertRaises(TypeError):
            CFUNCTYPE(c_int, int)
        with self.assertRaises(TypeError):
            c_int * 1.5
        with self.assertRaises(ValueError):
            c_int * -1

    def test_bad_bitfields(self):
        with self.assertRaises(ValueError):
            class Wide(Structure):
                _fields_ = [("a", c_int, 33)]
        with self.assertRaises(ValueError):
            class Bool(Structure):
                _fields_ = [("a", c_bool, 2)]
        with self.assertRaises(TypeError):
            class Dbl(Structure):
                _fields_ = [("a", c_double, 3)]
        with self.assertRaises(ValueError):
            class Neg(Structure):
                _fields_ = [("a", c_int, -1)]

    def test_bad_layout_pack_align(self):
        with self.assertRaises(ValueError):
            class L(Structure):
                _layout_ = "borland"
                _fields_ = [("a", c_int)]
        with self.assertRaises(ValueError):
            class P(Structure):
                _pack_ = 3
                _fields_ = [("a", c_int)]
        with self.assertRaises(ValueError):
            class A(Structure):
                _align_ = 3
                _fields_ = [("a", c_int)]

    def test_fields_are_final(self):
        class S(Structure):
            _fields_ = [("a", c_int)]
        with self.assertRaises(AttributeError):
            S._fields_ = [("b", c_int)]

    def test_null_pointers(self):
        with self.assertRaises(ValueError):
            POINTER(c_int)()[0]
        with self.assertRaises(ValueError):
            CFUNCTYPE(c_int)()()
        with self.assertRaises(ValueError):
            string_at(0)


if __name__ == "__main__":
    unittest.main()
