"""type-rules.py - every exported signature uses only ABI.md section 1 types
(tools/abi.py types), and the committed manifest and map are what the
header makes (tools/abi.py check).  First, the checker itself is shown to
reject each forbidden construct, so that a pass means something."""

import os
import shutil
import subprocess
import sys
import tempfile

from abitest import HEADER, SRCDIR, Tap, abi

t = Tap()

PRELUDE = """
typedef int64_t weft_handle;
typedef int weft_status;
typedef int (*weft_good_fn)(void *arg);
"""

# Each must be rejected by the checker, for the reason named.
BAD = [
    ("a struct by value", "struct",
     "struct weft_pt { int x; };\n"
     "WEFT_API weft_status weft_a_b(struct weft_pt p);"),
    ("a struct return", "struct",
     "WEFT_API struct weft_pt weft_a_b(void);"),
    ("a union by value", "union",
     "WEFT_API weft_status weft_a_b(union weft_u u);"),
    ("an array parameter", "array",
     "WEFT_API weft_status weft_a_b(int v[4]);"),
    ("a variadic function", "variadic",
     "WEFT_API weft_status weft_a_b(const char *fmt, ...);"),
    ("bool", "bool",
     "WEFT_API weft_status weft_a_b(bool on);"),
    ("_Bool", "bool",
     "WEFT_API weft_status weft_a_b(_Bool on);"),
    ("an enum", "enum",
     "WEFT_API weft_status weft_a_b(enum weft_e e);"),
    ("long", "long",
     "WEFT_API weft_status weft_a_b(long n);"),
    ("unsigned long", "long",
     "WEFT_API weft_status weft_a_b(unsigned long n);"),
    ("long long", "long",
     "WEFT_API long long weft_a_b(void);"),
    ("long double", "long",
     "WEFT_API weft_status weft_a_b(long double x);"),
    ("wchar_t", "wchar_t",
     "WEFT_API weft_status weft_a_b(const wchar_t *s);"),
    ("short", "short",
     "WEFT_API weft_status weft_a_b(short n);"),
    ("float", "float",
     "WEFT_API float weft_a_b(void);"),
    ("char by value", "char by value",
     "WEFT_API weft_status weft_a_b(char c);"),
    ("an unknown type", "not one of",
     "WEFT_API weft_status weft_a_b(ssize_t n);"),
    ("int8_t", "not one of",
     "WEFT_API weft_status weft_a_b(int8_t n);"),
    ("a pointer to a struct", "struct",
     "WEFT_API weft_status weft_a_b(struct weft_pt *p);"),
    ("three levels of pointers", "indirection",
     "WEFT_API weft_status weft_a_b(char ***p);"),
    ("an inline function pointer", "inline function pointer",
     "WEFT_API weft_status weft_a_b(void (*cb)(void *), void *arg);"),
    ("an unnamed parameter", "needs a name",
     "WEFT_API weft_status weft_a_b(int);"),
    ("a name without the weft_ prefix", "weft_<area>",
     "WEFT_API weft_status other_a_b(int n);"),
    ("an internal weft__ name", "weft_<area>",
     "WEFT_API weft_status weft__a_b(int n);"),
    ("an exported variable", "not a WEFT_API function",
     "WEFT_API int weft_a_b;"),
    ("another plain typedef", "plain typedefs",
     "typedef struct weft_pt weft_pt;"),
    ("weft_handle that is not int64_t", "must be int64_t",
     "typedef long weft_handle;"),
    ("a callback with a forbidden type", "long",
     "typedef int (*weft_bad_fn)(void *arg, long n);"),
    ("a callback without void *arg first", "void *arg",
     "typedef int (*weft_bad_fn)(int n);"),
    ("a duplicate declaration", "declared twice",
     "WEFT_API weft_status weft_a_b(int n);\n"
     "WEFT_API weft_status weft_a_b(int n);"),
]

for what, reason, text in BAD:
    probs = abi.check_types(abi.parse_header_text(PRELUDE + text))
    t.ok(any(reason in p for p in probs), "the type checker rejects %s" % what,
         "%s\nproblems found: %s" % (text, probs))

GOOD = PRELUDE + """
WEFT_API weft_status weft_a_b(const char *s, char *buf, size_t cap,
                              size_t *len, void *p, const void *q,
                              int n, unsigned int u, int32_t i32,
                              uint32_t u32, int64_t i64, uint64_t u64,
                              double d, weft_handle h, weft_good_fn cb,
                              weft_handle *out, void **pp, char **sp,
                              int64_t *vp, double *dp);
WEFT_API const char *weft_a_c(void);
WEFT_API uint64_t weft_a_d(void);
"""
good = abi.parse_header_text(GOOD)
probs = abi.check_types(good)
t.ok(not probs, "the type checker accepts every section 1 type",
     "\n".join(probs))
want = ["c_char_p", "c_char_p", "c_size_t", "POINTER(c_size_t)", "c_void_p",
        "c_void_p", "c_int", "c_uint", "c_int32", "c_uint32", "c_int64",
        "c_uint64", "c_double", "c_int64", "weft_good_fn", "POINTER(c_int64)",
        "POINTER(c_void_p)", "POINTER(c_char_p)", "POINTER(c_int64)",
        "POINTER(c_double)"]
got = [a["ctype"] for a in
       abi.make_manifest(good, "/nonexistent")["functions"][0]["args"]]
t.ok(got == want, "each section 1 type gets its ctypes spelling",
     "got  %s\nwant %s" % (got, want))

# The command line: its exit status is what `make abi-update` users see.
TOOL = os.path.join(SRCDIR, "tools", "abi.py")


def run_tool(srcdir, command):
    p = subprocess.Popen([sys.executable, TOOL, "--srcdir", srcdir, command],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True)
    out = p.communicate()[0]
    return p.returncode, out


tmp = tempfile.mkdtemp(prefix="weft-abi-types.")
try:
    os.mkdir(os.path.join(tmp, "abi"))
    with open(os.path.join(tmp, "abi", "weft.h"), "w") as f:
        f.write(PRELUDE + "WEFT_API weft_status weft_a_b(long n);\n")
    rc, out = run_tool(tmp, "types")
    t.ok(rc == 1 and "long" in out,
         "tools/abi.py types exits 1 and names the problem", out)
    rc, out = run_tool(tmp, "check")
    t.ok(rc == 1 and "weft.map" in out,
         "tools/abi.py check exits 1 when the map is out of date", out)
finally:
    shutil.rmtree(tmp)

# The real header.
hdr = abi.parse_header(HEADER)
t.ok(len(hdr.functions) > 0, "abi/weft.h parses into WEFT_API functions")
rc, out = run_tool(SRCDIR, "types")
t.ok(rc == 0, "every exported signature uses only ABI.md section 1 types "
     "(tools/abi.py types)", out)
rc, out = run_tool(SRCDIR, "check")
t.ok(rc == 0, "abi/weft.manifest.json and abi/weft.map match abi/weft.h "
     "(tools/abi.py check)", out)
t.done()
