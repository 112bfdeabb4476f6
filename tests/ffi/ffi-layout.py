"""ffi-layout.py - weft's struct layout against the C compiler's.

Generates random struct and union declarations (nested structs and
unions, arrays, bitfields of every integer type and random widths,
zero-width and unnamed bitfields, #pragma pack, __attribute__((aligned)),
__attribute__((ms_struct)) and scalar_storage_order("big-endian")),
compiles them with $CC into a program that prints sizeof, _Alignof and,
for every named field, its offset or (for a bitfield) the bits it
occupies: the field is set to all ones in a zeroed struct and the bytes
are scanned.  The same structs are built through weft's API (ctypes on
$WEFT_LIB) and everything is compared; for structs without bitfields
anywhere inside, Python's own ctypes is compared too.

The seed is fixed (WEFT_LAYOUT_SEED overrides it) and the count is
WEFT_LAYOUT_COUNT (default 1500, scaled by WEFT_STRESS_SCALE).  Zero
mismatches are required; the figures go to the TAP output.
"""

import ctypes
import os
import random
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "abi"))
sys.dont_write_bytecode = True

from abitest import Tap, weft_lib  # noqa: E402

WEFT_FFI_UNION, WEFT_FFI_MS = 1, 2
WEFT_FFI_BIG_ENDIAN, WEFT_FFI_LITTLE_ENDIAN = 4, 8
NATIVE_BIG = sys.byteorder == "big"

# (C spelling, weft name, integer?, ctypes type)
SCALARS = [
    ("char", "char", True, ctypes.c_char),
    ("signed char", "signed char", True, ctypes.c_byte),
    ("unsigned char", "unsigned char", True, ctypes.c_ubyte),
    ("short", "short", True, ctypes.c_short),
    ("unsigned short", "unsigned short", True, ctypes.c_ushort),
    ("int", "int", True, ctypes.c_int),
    ("unsigned int", "unsigned int", True, ctypes.c_uint),
    ("long", "long", True, ctypes.c_long),
    ("unsigned long", "unsigned long", True, ctypes.c_ulong),
    ("long long", "long long", True, ctypes.c_longlong),
    ("unsigned long long", "unsigned long long", True, ctypes.c_ulonglong),
    ("_Bool", "bool", True, ctypes.c_bool),
    ("wchar_t", "wchar_t", True, ctypes.c_wchar),
    ("float", "float", False, ctypes.c_float),
    ("double", "double", False, ctypes.c_double),
    ("long double", "long double", False, ctypes.c_longdouble),
    ("void *", "void*", False, ctypes.c_void_p),
    ("char *", "char*", False, ctypes.c_char_p),
]
INTEGERS = [s for s in SCALARS if s[2]]
SIZES = {"char": 1, "signed char": 1, "unsigned char": 1, "short": 2,
         "unsigned short": 2, "int": 4, "unsigned int": 4,
         "long": ctypes.sizeof(ctypes.c_long),
         "unsigned long": ctypes.sizeof(ctypes.c_long), "long long": 8,
         "unsigned long long": 8, "_Bool": 1,
         "wchar_t": ctypes.sizeof(ctypes.c_wchar)}


class Field(object):
    def __init__(self, name, kind, base, length=None, bits=None):
        self.name = name      # "" for an unnamed bitfield
        self.kind = kind      # "scalar" or "struct"
        self.base = base      # a SCALARS entry or a Struct
        self.length = length  # array length, or None
        self.bits = bits      # bitfield width, or None


class Struct(object):
    def __init__(self, index, rnd, earlier):
        self.name = "S%d" % index
        # One in four is plain (no bitfields, aligned() or foreign byte
        # order, nesting only plain ones), for the comparison with ctypes.
        self.plain = rnd.random() < 0.25
        if self.plain:
            earlier = [e for e in earlier if e.plain]
        self.union = rnd.random() < 0.2
        self.ms = rnd.random() < 0.3
        self.pack = rnd.choice([0] * 5 + [1, 2, 4, 8, 16])
        self.align = rnd.choice([0] * 6 + [1, 2, 4, 8, 16, 32])
        self.big = rnd.random() < 0.25
        self.fields = []
        n = rnd.randint(0 if rnd.random() < 0.03 else 1, 9)
        bitfieldy = rnd.random() < 0.6 and not self.plain
        if self.plain:
            self.align, self.big = 0, NATIVE_BIG
        # Nest only small structs, so sizes stay bounded.
        small = [e for e in earlier[-40:] if e.est <= 48][-12:]
        for i in range(n):
            r = rnd.random()
            if bitfieldy and r < 0.55:
                t = rnd.choice(INTEGERS)
                width = SIZES[t[0]] * 8 if t[0] != "_Bool" else 1
                w = rnd.choice([0, 1, width, rnd.randint(1, width),
                                rnd.randint(1, width)])
                unnamed = w == 0 or rnd.random() < 0.1
                self.fields.append(Field("" if unnamed else "f%d" % i,
                                         "scalar", t, bits=w))
            elif small and r < 0.75:
                s = rnd.choice(small)
                length = rnd.choice([None, None, None, 1, 2, 3])
                self.fields.append(Field("f%d" % i, "struct", s, length))
            else:
                t = rnd.choice(SCALARS)
                length = rnd.choice([None] * 5 + [1, 2, 3, 5])
                self.fields.append(Field("f%d" % i, "scalar", t, length))

        self.est = sum(
            (16 if f.kind == "scalar" else f.base.est + 32) *
            (f.length or 1) for f in self.fields) + max(self.align, 16)

    def has_bitfields(self):
        return any(f.bits is not None or
                   (f.kind == "struct" and f.base.has_bitfields())
                   for f in self.fields)

    def uses_weird(self):
        """Something ctypes cannot express (here): a struct _align_ (3.13+
        only), or byte order other than native anywhere."""
        if self.align or self.big != NATIVE_BIG:
            return True
        return any(f.kind == "struct" and f.base.uses_weird()
                   for f in self.fields)

    def c_decl(self):
        attrs = []
        if self.ms:
            attrs.append("ms_struct")
        if self.align:
            attrs.append("aligned(%d)" % self.align)
        if self.big:
            attrs.append('scalar_storage_order("big-endian")')
        out = []
        if self.pack:
            out.append("#pragma pack(push, %d)" % self.pack)
        out.append("%s %s%s {" % ("union" if self.union else "struct",
                                  "__attribute__((%s)) " % ", ".join(attrs)
                                  if attrs else "", self.name))
        for f in self.fields:
            t = f.base[0] if f.kind == "scalar" else "%s %s" % (
                "union" if f.base.union else "struct", f.base.name)
            arr = "" if f.length is None else "[%d]" % f.length
            bits = "" if f.bits is None else " : %d" % f.bits
            out.append("  %s %s%s%s;" % (t, f.name, arr, bits))
        out.append("};")
        if self.pack:
            out.append("#pragma pack(pop)")
        return "\n".join(out)

    def c_measure(self):
        tag = "%s %s" % ("union" if self.union else "struct", self.name)
        out = ['  printf("%s %%zu %%zu\\n", sizeof(%s), _Alignof(%s));'
               % (self.name, tag, tag)]
        for f in self.fields:
            if not f.name:
                continue
            if f.bits is None:
                out.append('  printf("F %s %%zu\\n", offsetof(%s, %s));'
                           % (f.name, tag, f.name))
            else:
                out.append("  { %s v; memset(&v, 0, sizeof v); v.%s = -1; "
                           'printf("B %s"); bits(&v, sizeof v); }'
                           % (tag, f.name, f.name))
        return "\n".join(out)


PROGRAM_HEAD = r"""
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

/* The set bits of an object: " byte.bit" for each, bit 0 the least
 * significant. */
static void bits(const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    for (int j = 0; j < 8; j++)
      if (b[i] >> j & 1)
        printf(" %zu", i * 8 + j);
  printf("\n");
}
"""


def c_program(structs):
    parts = [PROGRAM_HEAD]
    parts.extend(s.c_decl() for s in structs)
    parts.append("int main(void) {")
    parts.extend(s.c_measure() for s in structs)
    parts.append("  return 0;\n}\n")
    return "\n".join(parts)


def gcc_results(structs, tmp):
    """{struct name: (size, align, {field: offset or frozenset of bits})}"""
    src = os.path.join(tmp, "layout.c")
    exe = os.path.join(tmp, "layout")
    with open(src, "w") as f:
        f.write(c_program(structs))
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)  # a sanitizer runtime is for weft only
    cc = shlex.split(os.environ.get("CC") or "cc")
    subprocess.check_call(cc + ["-w", "-O0", "-o", exe, src], env=env)
    out = subprocess.check_output([exe], env=env, universal_newlines=True)
    res, cur = {}, None
    for line in out.splitlines():
        p = line.split()
        if p[0] == "F":
            cur[2][p[1]] = int(p[2])
        elif p[0] == "B":
            cur[2][p[1]] = frozenset(int(x) for x in p[2:])
        else:
            cur = (int(p[1]), int(p[2]), {})
            res[p[0]] = cur
    return res


class Weft(object):
    def __init__(self, path):
        lib = ctypes.CDLL(path)
        H, I, Z = ctypes.c_int64, ctypes.c_int, ctypes.c_size_t
        P = ctypes.POINTER
        for name, args in [
                ("weft_ffi_type_named", [ctypes.c_char_p, P(H)]),
                ("weft_ffi_array_new", [H, Z, P(H)]),
                ("weft_ffi_struct_new", [I, I, I, P(H)]),
                ("weft_ffi_struct_add", [H, ctypes.c_char_p, H, I]),
                ("weft_ffi_struct_finish", [H]),
                ("weft_ffi_type_size", [H, P(Z)]),
                ("weft_ffi_type_align", [H, P(Z)]),
                ("weft_ffi_struct_field_index", [H, ctypes.c_char_p, P(Z)]),
                ("weft_ffi_struct_field_layout",
                 [H, Z, P(Z), P(Z), P(I), P(I)]),
                ("weft_close", [H])]:
            f = getattr(lib, name)
            f.argtypes = args
            f.restype = ctypes.c_int
        lib.weft_last_error_message.restype = ctypes.c_char_p
        lib.weft_last_error_message.argtypes = []
        self.lib = lib
        self.handles = {}

    def check(self, st, what):
        if st != 0:
            raise RuntimeError("%s: %d %s" % (what, st,
                               self.lib.weft_last_error_message().decode()))

    def named(self, name):
        h = ctypes.c_int64()
        self.check(self.lib.weft_ffi_type_named(name.encode(),
                                                ctypes.byref(h)), name)
        return h.value

    def array(self, t, n):
        h = ctypes.c_int64()
        self.check(self.lib.weft_ffi_array_new(t, n, ctypes.byref(h)),
                   "array")
        return h.value

    def build(self, s):
        flags = ((WEFT_FFI_UNION if s.union else 0) |
                 (WEFT_FFI_MS if s.ms else 0) |
                 (WEFT_FFI_BIG_ENDIAN if s.big else WEFT_FFI_LITTLE_ENDIAN))
        h = ctypes.c_int64()
        self.check(self.lib.weft_ffi_struct_new(flags, s.pack, s.align,
                                                ctypes.byref(h)), "new")
        st = h.value
        for f in s.fields:
            t = (self.named(f.base[1]) if f.kind == "scalar"
                 else self.handles[f.base.name])
            temp = f.kind == "scalar"
            if f.length is not None:
                a = self.array(t, f.length)
                if temp:
                    self.lib.weft_close(t)
                t, temp = a, True
            self.check(self.lib.weft_ffi_struct_add(
                st, f.name.encode(), t, -1 if f.bits is None else f.bits),
                "add %s.%s" % (s.name, f.name))
            if temp:  # the struct keeps the type alive
                self.lib.weft_close(t)
        self.check(self.lib.weft_ffi_struct_finish(st), "finish")
        self.handles[s.name] = st
        return st

    def results(self, s):
        st = self.handles[s.name]
        size, align = ctypes.c_size_t(), ctypes.c_size_t()
        self.check(self.lib.weft_ffi_type_size(st, ctypes.byref(size)), "sz")
        self.check(self.lib.weft_ffi_type_align(st, ctypes.byref(align)),
                   "al")
        fields = {}
        for f in s.fields:
            if not f.name:
                continue
            idx = ctypes.c_size_t()
            self.check(self.lib.weft_ffi_struct_field_index(
                st, f.name.encode(), ctypes.byref(idx)), "index")
            off, unit = ctypes.c_size_t(), ctypes.c_size_t()
            bo, bits = ctypes.c_int(), ctypes.c_int()
            self.check(self.lib.weft_ffi_struct_field_layout(
                st, idx.value, ctypes.byref(off), ctypes.byref(unit),
                ctypes.byref(bo), ctypes.byref(bits)), "layout")
            if bits.value < 0:
                fields[f.name] = off.value
                continue
            if off.value + unit.value > size.value:
                fields[f.name] = "unit %d+%d past the struct" % (
                    off.value, unit.value)
                continue
            # Value bits bo..bo+bits-1 of the unit, read in s's order.
            mem = set()
            for k in range(bo.value, bo.value + bits.value):
                byte = (unit.value - 1 - k // 8) if s.big else k // 8
                mem.add((off.value + byte) * 8 + k % 8)
            fields[f.name] = frozenset(mem)
        return size.value, align.value, fields


def ctypes_type(s, cache):
    if s.name in cache:
        return cache[s.name]
    fields = []
    for f in s.fields:
        t = f.base[3] if f.kind == "scalar" else ctypes_type(f.base, cache)
        if f.length is not None:
            t = t * f.length
        fields.append((f.name, t))
    base = ctypes.Union if s.union else ctypes.Structure
    ns = {"_fields_": fields}
    if s.pack:
        ns["_pack_"] = s.pack
    if sys.version_info >= (3, 14):
        ns["_layout_"] = "ms" if s.pack or s.ms else "gcc-sysv"
    cache[s.name] = type(s.name, (base,), ns)
    return cache[s.name]


def describe(v):
    if isinstance(v, frozenset):
        return "bits {%s}" % ",".join(str(b) for b in sorted(v))
    return str(v)


def main():
    t = Tap()
    lib = weft_lib()
    seed = int(os.environ.get("WEFT_LAYOUT_SEED", "20240611"))
    scale = float(os.environ.get("WEFT_STRESS_SCALE", "1") or 1)
    count = int(os.environ.get("WEFT_LAYOUT_COUNT", "0")) or max(
        100, int(1500 * scale))
    rnd = random.Random(seed)
    structs = []
    for i in range(count):
        structs.append(Struct(i, rnd, structs))
    with tempfile.TemporaryDirectory(prefix="weft-layout-") as tmp:
        try:
            truth = gcc_results(structs, tmp)
        except (OSError, subprocess.CalledProcessError) as e:
            t.ok(False, "the generated program compiles and runs", str(e))
            t.done()
    t.ok(len(truth) == count, "gcc measured all %d structs" % count)
    w = Weft(lib)
    mism, nfields, nbit, shown = 0, 0, 0, 0
    ct_structs, ct_fields, ct_mism, ct_cache = 0, 0, 0, {}
    for s in structs:
        try:
            w.build(s)
            got = w.results(s)
        except RuntimeError as e:
            got = (str(e), None, {})
        want = truth[s.name]
        problems = []
        if got[0] != want[0] or got[1] != want[1]:
            problems.append("size/align %s/%s, gcc %d/%d"
                            % (got[0], got[1], want[0], want[1]))
        for name, v in want[2].items():
            nfields += 1
            nbit += isinstance(v, frozenset)
            if got[2].get(name) != v:
                problems.append("%s: %s, gcc %s" % (
                    name, describe(got[2].get(name)), describe(v)))
        if problems:
            mism += 1
            if shown < 10:
                shown += 1
                t.diag("mismatch in %s:\n%s\n%s" % (
                    s.name, "\n".join("  " + p for p in problems),
                    "\n".join(st.c_decl() for st in structs
                              if st.name == s.name or st.name in
                              [f.base.name for f in s.fields
                               if f.kind == "struct"])))
        if not s.has_bitfields() and not s.uses_weird():
            try:
                ct = ctypes_type(s, ct_cache)
            except (TypeError, ValueError, AttributeError):
                continue
            ct_structs += 1
            ok = (ctypes.sizeof(ct) == got[0] and
                  ctypes.alignment(ct) == got[1])
            for name in want[2]:
                ct_fields += 1
                ok = ok and getattr(ct, name).offset == got[2].get(name)
            ct_mism += not ok
    t.ok(mism == 0, "weft's layout equals gcc's: %d structs, %d fields "
         "(%d bitfields) compared, %d structs mismatched (seed %d)"
         % (count, nfields, nbit, mism, seed))
    t.ok(ct_mism == 0 and ct_structs > 0,
         "weft equals Python %d.%d's ctypes for the %d structs without "
         "bitfields, aligned() or foreign byte order (%d fields), %d "
         "mismatched" % (sys.version_info[0], sys.version_info[1],
                         ct_structs, ct_fields, ct_mism))
    t.done()


if __name__ == "__main__":
    main()
