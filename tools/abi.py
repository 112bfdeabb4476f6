#!/usr/bin/env python3
"""abi.py - weft's machine-readable ABI, made from abi/weft.h.

    tools/abi.py [--srcdir DIR] manifest   write abi/weft.manifest.json
    tools/abi.py [--srcdir DIR] map        write abi/weft.map
    tools/abi.py [--srcdir DIR] check      committed manifest, map == header?
    tools/abi.py [--srcdir DIR] types      signatures use only ABI.md types?
    tools/abi.py [--srcdir DIR] names      print the header's function names
    tools/abi.py [--srcdir DIR] exports LIB  LIB exports the header's set?

The header is the source of truth (see docs/abi.md).  Its format is ours:
every exported function is `WEFT_API <ret> <name>(<args>);` (it may span
lines), callback types are `typedef <ret> (*<name>)(<args>);`, and the
plain typedefs are weft_handle (int64_t) and weft_status (int).  The
version node of each symbol comes from the committed abi/weft.map; a
symbol that is new goes to the newest node (or to --node NAME).

`check` and `types` print one line per problem and exit 1 if there is any.
Python 3.7+, no third-party modules; importable by the tests.
"""

import argparse
import difflib
import json
import os
import re
import sys

# ---------------------------------------------------------------------------
# Types (ABI.md section 1)
# ---------------------------------------------------------------------------

# Scalars allowed by value: C spelling -> ctypes spelling.
SCALARS = {
    "int": "c_int",
    "unsigned int": "c_uint",
    "int32_t": "c_int32",
    "uint32_t": "c_uint32",
    "int64_t": "c_int64",
    "uint64_t": "c_uint64",
    "size_t": "c_size_t",
    "double": "c_double",
}

# The ABI's own plain typedefs and what they must alias.
PLAIN_TYPEDEFS = {"weft_handle": "int64_t", "weft_status": "int"}

# Pointer types allowed by value: C spelling -> ctypes spelling.
POINTERS = {
    "const char *": "c_char_p",
    "char *": "c_char_p",
    "void *": "c_void_p",
    "const void *": "c_void_p",
}

# Words that can only be part of a type, never a parameter name.
TYPE_WORDS = {
    "const", "volatile", "restrict", "signed", "unsigned", "short", "long",
    "int", "char", "float", "double", "void", "_Bool", "bool", "wchar_t",
    "struct", "union", "enum", "size_t", "ssize_t", "int8_t", "uint8_t",
    "int16_t", "uint16_t", "int32_t", "uint32_t", "int64_t", "uint64_t",
    "intptr_t", "uintptr_t", "ptrdiff_t", "off_t", "_Complex",
}

# Forbidden words, with the reason given to the user.
FORBIDDEN = {
    "struct": "struct types are not allowed (ABI.md 1)",
    "union": "union types are not allowed (ABI.md 1)",
    "enum": "enum types are not allowed; use int (ABI.md 1)",
    "bool": "bool is not allowed; use int (ABI.md 1)",
    "_Bool": "bool is not allowed; use int (ABI.md 1)",
    "long": "long is not allowed; use int64_t (ABI.md 1)",
    "wchar_t": "wchar_t is not allowed (ABI.md 1)",
    "short": "short is not allowed; use int (ABI.md 1)",
    "float": "float is not allowed; use double (ABI.md 1)",
    "_Complex": "complex types are not allowed (ABI.md 1)",
}

DEFAULT_NODE = "WEFT_0.1"

MAP_HEADER = """\
/* weft.map - the exported symbols, by version node.  A released node never
 * changes; new symbols go in a new node (see ABI.md section 9).
 * Generated from abi/weft.h by tools/abi.py map (`make abi-update`). */
"""


class AbiError(Exception):
    """The header cannot be parsed."""


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

def strip_comments_and_cpp(text):
    """The header's C text without comments and preprocessor lines.

    Newlines are kept so that line numbers stay right."""
    out = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise AbiError("unterminated comment")
            out.append("\n" * text.count("\n", i, j + 2) or " ")
            i = j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    lines = "".join(out).split("\n")
    result, cont = [], False
    for line in lines:
        is_cpp = cont or line.lstrip().startswith("#")
        cont = is_cpp and line.rstrip().endswith("\\")
        result.append("" if is_cpp else line)
    return "\n".join(result)


def tokenize(decl):
    """C tokens of one declaration: identifiers, '*', and punctuation."""
    return re.findall(r"\.\.\.|[A-Za-z_]\w*|\d\w*|\S", decl)


class Param(object):
    """One parameter (or a return type, with name None).

    c      the normalised C spelling of the type ("const char *")
    words  the type's words without '*' ("const", "char")
    stars  the number of '*'
    """

    def __init__(self, c, words, stars, name, array=False, raw=""):
        self.c, self.words, self.stars = c, words, stars
        self.name, self.array, self.raw = name, array, raw


def spell(words, stars):
    """Normalised C spelling: words joined by spaces, then the stars."""
    base = " ".join(words)
    if base == "unsigned":
        base = "unsigned int"
    return base + (" " + "*" * stars if stars else "")


def parse_param(text, typenames):
    """Parse `const char *name` into a Param.  `typenames` holds the typedef
    names known so far (they cannot be parameter names)."""
    raw = " ".join(text.split())
    toks = tokenize(raw)
    array = "[" in toks
    if array:
        toks = toks[:toks.index("[")]
    name = None
    if (len(toks) >= 2 and re.match(r"[A-Za-z_]\w*$", toks[-1])
            and toks[-1] not in TYPE_WORDS and toks[-1] not in typenames):
        name = toks[-1]
        toks = toks[:-1]
    # Qualifiers after a star (char *const p) qualify the pointer itself,
    # which is invisible to a caller; drop them.
    words, stars, seen_star = [], 0, False
    for t in toks:
        if t == "*":
            stars += 1
            seen_star = True
        elif t in ("const", "volatile", "restrict") and seen_star:
            continue
        else:
            words.append(t)
    # Put `const` first so that "char const" spells "const char".
    if "const" in words:
        words = ["const"] + [w for w in words if w != "const"]
    return Param(spell(words, stars), words, stars, name, array, raw)


def split_args(args):
    """Split an argument list at top-level commas."""
    parts, depth, cur = [], 0, []
    for ch in args:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    parts = [p.strip() for p in parts]
    if parts == [""] or parts == ["void"]:
        return []
    return parts


class Signature(object):
    """A function or a callback typedef: name, return Param, Params."""

    def __init__(self, name, ret, params, line, raw_args):
        self.name, self.ret, self.params = name, ret, params
        self.line, self.raw_args = line, raw_args


class Header(object):
    """What abi/weft.h declares, in order of appearance."""

    def __init__(self):
        self.functions = []     # [Signature]
        self.callbacks = []     # [Signature]
        self.typedefs = []      # [(name, Param, line)]
        self.others = []        # [(line, text)]: declarations we don't know


FUNC_RE = re.compile(r"^WEFT_API\s+(.*?)\b([A-Za-z_]\w*)\s*\((.*)\)$", re.S)
CALLBACK_RE = re.compile(
    r"^typedef\s+(.*?)\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\((.*)\)$", re.S)
TYPEDEF_RE = re.compile(r"^typedef\s+([^()]*?)\s*\b([A-Za-z_]\w*)$", re.S)


def parse_header_text(text):
    """Parse the header's text into a Header."""
    code = strip_comments_and_cpp(text)
    # `extern "C" {` and its `}` are the only braces a header of ours has
    # outside declarations; drop them.
    code = re.sub(r'extern\s+"C"\s*\{', lambda m: " " * len(m.group(0)), code)
    hdr = Header()
    typenames = set(PLAIN_TYPEDEFS)
    pos = 0
    for m in re.finditer(r"[;{}]", code):
        stmt = code[pos:m.start()]
        start = pos + len(stmt) - len(stmt.lstrip())
        line = code.count("\n", 0, start) + 1
        pos = m.end()
        if m.group(0) != ";":
            if stmt.strip():
                hdr.others.append((line, " ".join(stmt.split()) + m.group(0)))
            elif m.group(0) == "{":
                hdr.others.append((line, "{"))
            continue
        stmt = " ".join(stmt.split())
        if not stmt:
            continue
        fm = FUNC_RE.match(stmt)
        cm = CALLBACK_RE.match(stmt)
        tm = TYPEDEF_RE.match(stmt)
        if fm:
            ret = parse_param(fm.group(1), typenames)
            params = [parse_param(a, typenames)
                      for a in split_args(fm.group(3))]
            hdr.functions.append(
                Signature(fm.group(2), ret, params, line, fm.group(3)))
        elif cm:
            ret = parse_param(cm.group(1), typenames)
            params = [parse_param(a, typenames)
                      for a in split_args(cm.group(3))]
            hdr.callbacks.append(
                Signature(cm.group(2), ret, params, line, cm.group(3)))
            typenames.add(cm.group(2))
        elif tm:
            hdr.typedefs.append(
                (tm.group(2), parse_param(tm.group(1), typenames), line))
            typenames.add(tm.group(2))
        else:
            hdr.others.append((line, stmt + ";"))
    return hdr


def parse_header(path):
    with open(path, encoding="utf-8") as f:
        return parse_header_text(f.read())


# ---------------------------------------------------------------------------
# Types check
# ---------------------------------------------------------------------------

def type_problems(p, callbacks, role):
    """Problems with one Param's type: a list of strings (empty if fine).

    role is "return", "param" or "callback-return"; callbacks is the set of
    callback typedef names declared so far."""
    probs = []
    if p.array:
        probs.append("arrays are not allowed (ABI.md 1)")
    if "..." in p.words:
        return ["variadic functions are not allowed (ABI.md 1)"]
    if "(" in p.raw or ")" in p.raw:
        return ["inline function pointer types are not allowed; "
                "use a callback typedef (ABI.md 1, 6)"]
    for w in p.words:
        if w in FORBIDDEN:
            probs.append(FORBIDDEN[w])
    if probs:
        return probs
    words = [w for w in p.words if w not in ("const", "volatile")]
    base = spell(words, 0)
    if "volatile" in p.words:
        return ["volatile is not allowed (ABI.md 1)"]
    if p.stars == 0:
        if "const" in p.words:
            # `const int x` is an int to a caller; allowed but pointless.
            pass
        if base == "void":
            if role == "param":
                return ["a void parameter must be the only one: f(void)"]
            return []
        if base in SCALARS or base in PLAIN_TYPEDEFS:
            return []
        if base in callbacks:
            if role == "param":
                return []
            return ["returning a function pointer is not allowed"]
        if base in ("char", "signed char", "unsigned char"):
            return ["char by value is not allowed; use int (ABI.md 1)"]
        return ["type %r is not one of ABI.md's section 1 types" % base]
    # Pointers.
    if p.stars == 1 and base in ("char", "void"):
        return []
    if base in ("char", "void"):
        if p.stars == 2:
            return []  # char **, void **: out-parameters for pointers
        return ["%s: too many levels of indirection" % p.c]
    if p.stars == 1 and (base in SCALARS or base in PLAIN_TYPEDEFS
                         or base in callbacks):
        return []
    if base in ("signed char", "unsigned char"):
        return ["%s: use char * or void * (ABI.md 1)" % p.c]
    if p.stars > 1:
        return ["%s: too many levels of indirection" % p.c]
    return ["type %r is not one of ABI.md's section 1 types" % p.c]


def signature_problems(sig, callbacks, kind):
    """Problems of a function (kind "function") or callback ("callback")."""
    probs = []
    where = "%s %s (line %d)" % (kind, sig.name, sig.line)
    for pr in type_problems(sig.ret, callbacks, "return"):
        probs.append("%s: return type: %s" % (where, pr))
    if sig.ret.name is not None:
        probs.append("%s: cannot parse the return type %r"
                     % (where, sig.ret.raw))
    names = set()
    for i, p in enumerate(sig.params):
        label = "%s: parameter %d (%s)" % (where, i + 1, p.raw)
        for pr in type_problems(p, callbacks, "param"):
            probs.append("%s: %s" % (label, pr))
        if p.name is None and "..." not in p.words:
            probs.append("%s: every parameter needs a name" % label)
        elif p.name in names:
            probs.append("%s: duplicate parameter name" % label)
        names.add(p.name)
    if kind == "callback":
        if not sig.params or sig.params[0].c != "void *":
            probs.append("%s: a callback's first parameter must be the "
                         "user's void *arg (ABI.md 6)" % where)
    else:
        if not re.match(r"weft_[a-z0-9]", sig.name) or "__" in sig.name:
            probs.append("%s: exported names are weft_<area>_<verb> "
                         "(ABI.md 8)" % where)
    return probs


def check_types(hdr):
    """Every problem with the header's exported signatures, as strings."""
    probs = []
    known = set()
    for name, p, line in hdr.typedefs:
        want = PLAIN_TYPEDEFS.get(name)
        if want is None:
            probs.append("typedef %s (line %d): only weft_handle and "
                         "weft_status are plain typedefs (ABI.md 2, 3)"
                         % (name, line))
        elif p.c != want:
            probs.append("typedef %s (line %d) must be %s, not %s"
                         % (name, line, want, p.c))
        known.add(name)
    for name in PLAIN_TYPEDEFS:
        if name not in known:
            probs.append("typedef %s is missing" % name)
    callbacks = set()
    for cb in hdr.callbacks:
        probs.extend(signature_problems(cb, callbacks, "callback"))
        callbacks.add(cb.name)
    for fn in hdr.functions:
        probs.extend(signature_problems(fn, callbacks, "function"))
    for line, text in hdr.others:
        probs.append("line %d: not a WEFT_API function or an allowed "
                     "typedef: %s" % (line, text))
    seen = set()
    for name in ([f.name for f in hdr.functions]
                 + [c.name for c in hdr.callbacks]):
        if name in seen:
            probs.append("%s is declared twice" % name)
        seen.add(name)
    return probs


# ---------------------------------------------------------------------------
# ctypes spelling, manifest, map
# ---------------------------------------------------------------------------

def ctypes_of(p, callbacks):
    """The ctypes spelling of a Param's type (None for void)."""
    words = [w for w in p.words if w not in ("const", "volatile")]
    base = spell(words, 0)
    if p.stars == 0:
        if base == "void":
            return None
        if base in PLAIN_TYPEDEFS:
            return SCALARS[PLAIN_TYPEDEFS[base]]
        if base in SCALARS:
            return SCALARS[base]
        if base in callbacks:
            return base
        return "?" + p.c
    if p.stars == 1 and base in ("char", "void"):
        return POINTERS.get(p.c, "c_void_p")
    inner = Param(spell(p.words, p.stars - 1), p.words, p.stars - 1, None)
    return "POINTER(%s)" % ctypes_of(inner, callbacks)


def read_map_nodes(path):
    """{symbol: node} and the node names in order, from a version script."""
    nodes, order = {}, []
    if not os.path.exists(path):
        return nodes, order
    with open(path, encoding="utf-8") as f:
        text = strip_comments_and_cpp(f.read())
    for m in re.finditer(r"([A-Za-z_][\w.]*)\s*\{(.*?)\}\s*([\w.]*)\s*;",
                         text, re.S):
        order.append(m.group(1))
        body = m.group(2)
        gm = re.search(r"global\s*:(.*?)(local\s*:|$)", body, re.S)
        if gm:
            for sym in re.findall(r"([A-Za-z_]\w*)\s*;", gm.group(1)):
                nodes.setdefault(sym, m.group(1))
    return nodes, order


def assign_nodes(hdr, map_path, node=None):
    """The version node of every header function, in header order."""
    old, order = read_map_nodes(map_path)
    newest = node or (order[-1] if order else DEFAULT_NODE)
    return [(f.name, old.get(f.name, newest)) for f in hdr.functions]


def param_json(p, callbacks):
    return {"name": p.name, "ctype": ctypes_of(p, callbacks), "c": p.c}


def callback_json(cb, callbacks):
    restype = ctypes_of(cb.ret, callbacks)
    argtypes = [ctypes_of(p, callbacks) for p in cb.params]
    return {
        "name": cb.name,
        "restype": restype,
        "c_restype": cb.ret.c,
        "args": [param_json(p, callbacks) for p in cb.params],
        "ctypes": "CFUNCTYPE(%s)" % ", ".join([restype or "None"] + argtypes),
        "c": "typedef %s (*%s)(%s);" % (cb.ret.c, cb.name, ", ".join(
            c_param(p) for p in cb.params) or "void"),
    }


def c_param(p, name=None):
    """`const char *name`, `int n`: a type with a name, C style."""
    name = name or p.name or ""
    return p.c + ("" if p.c.endswith("*") or not name else " ") + name


def make_manifest(hdr, map_path, node=None):
    """The manifest as a Python object (see docs/abi.md for its fields)."""
    callbacks = set(cb.name for cb in hdr.callbacks)
    nodes = dict(assign_nodes(hdr, map_path, node))
    functions = []
    for f in hdr.functions:
        functions.append({
            "name": f.name,
            "version": nodes[f.name],
            "restype": ctypes_of(f.ret, callbacks),
            "c_restype": f.ret.c,
            "args": [param_json(p, callbacks) for p in f.params],
            "c": "%s(%s);" % (c_param(f.ret, f.name), ", ".join(
                c_param(p) for p in f.params) or "void"),
        })
    return {
        "comment": "weft's exported functions in ctypes terms.  Generated "
                   "from abi/weft.h by tools/abi.py manifest; do not edit.  "
                   "A callback type is named by its typedef (see callbacks); "
                   "restype null is void.",
        "library": "libweft.so.0",
        "header": "abi/weft.h",
        "version_nodes": sorted(set(nodes.values()), key=node_key),
        "typedefs": [{"name": n, "c": t, "ctype": SCALARS[t]}
                     for n, t in sorted(PLAIN_TYPEDEFS.items())],
        "callbacks": [callback_json(cb, callbacks) for cb in hdr.callbacks],
        "functions": functions,
    }


def node_key(node):
    return [int(x) if x.isdigit() else x for x in re.split(r"[._]", node)]


def manifest_text(manifest):
    """The manifest as JSON: one line per argument, so diffs read well."""
    def compact(obj):
        return json.dumps(obj, separators=(", ", ": "))

    def entry(obj, indent):
        pad = " " * indent
        if "args" not in obj:
            return pad + compact(obj)
        items = []
        for k, v in obj.items():
            if k == "args":
                inner = ",\n".join(pad + "    " + compact(a) for a in v)
                items.append('%s  "args": [%s]' % (
                    pad, "\n" + inner + "\n" + pad + "  " if v else ""))
            else:
                items.append("%s  %s: %s" % (pad, compact(k), compact(v)))
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"

    items = []
    for k, v in manifest.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            body = ",\n".join(entry(x, 4) for x in v)
            items.append('  %s: [\n%s\n  ]' % (compact(k), body))
        else:
            items.append("  %s: %s" % (compact(k), compact(v)))
    text = "{\n" + ",\n".join(items) + "\n}\n"
    assert json.loads(text) == manifest
    return text


def make_map(hdr, map_path, node=None):
    """The version script's text: one node per version, oldest first; each
    newer node inherits the one before it; `local: *;` in the oldest."""
    pairs = assign_nodes(hdr, map_path, node)
    order = sorted(set(n for _, n in pairs), key=node_key) or [DEFAULT_NODE]
    out = [MAP_HEADER]
    prev = None
    for i, n in enumerate(order):
        out.append("%s {\n  global:\n" % n)
        for sym, sn in pairs:
            if sn == n:
                out.append("    %s;\n" % sym)
        if i == 0:
            out.append("  local:\n    *;\n")
        out.append("}%s;\n" % (" " + prev if prev else ""))
        prev = n
    return "".join(out)


# ---------------------------------------------------------------------------
# The built library
# ---------------------------------------------------------------------------

def tool_env():
    """The environment for binutils and the compiler: without a sanitizer
    runtime that a test host may have preloaded."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


def library_exports(lib, nodes=()):
    """{symbol: version node} of what `nm -D --defined-only lib` lists,
    without the version nodes' own (absolute) symbols.  Raises OSError or
    subprocess.CalledProcessError if nm fails."""
    import subprocess
    out = subprocess.check_output(["nm", "-D", "--defined-only", lib],
                                  universal_newlines=True, env=tool_env())
    exported = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        kind, sym = parts[-2], parts[-1]
        name, _, version = sym.partition("@")
        if kind == "A" and (name in nodes or not version):
            continue
        exported[name] = version.lstrip("@")
    return exported


def export_problems(hdr, map_path, lib):
    """Problems: the library does not export exactly the header's functions,
    each in its node, and nothing else."""
    nodes, order = read_map_nodes(map_path)
    try:
        exported = library_exports(lib, order)
    except Exception as e:  # OSError, CalledProcessError
        return ["nm -D %s: %s" % (lib, e)]
    declared = set(f.name for f in hdr.functions)
    probs = []
    for name in sorted(set(exported) - declared):
        probs.append("%s: exported but not declared in abi/weft.h" % name)
    for name in sorted(declared - set(exported)):
        probs.append("%s: declared in abi/weft.h but not exported" % name)
    for name in sorted(set(exported) & declared):
        if name in nodes and exported[name] != nodes[name]:
            probs.append("%s: version %r, abi/weft.map says %r"
                         % (name, exported[name], nodes[name]))
    return probs


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

class Paths(object):
    def __init__(self, srcdir):
        self.srcdir = srcdir
        self.header = os.path.join(srcdir, "abi", "weft.h")
        self.map = os.path.join(srcdir, "abi", "weft.map")
        self.manifest = os.path.join(srcdir, "abi", "weft.manifest.json")

    def rel(self, path):
        return os.path.relpath(path, self.srcdir)


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return ""


def write_if_changed(path, text):
    if read(path) == text:
        print("abi.py: %s is up to date" % path)
        return
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    print("abi.py: wrote %s" % path)


def diff(path, want, name):
    have = read(path)
    if have == want:
        return []
    return list(difflib.unified_diff(
        have.splitlines(True), want.splitlines(True),
        name + " (committed)", name + " (from abi/weft.h)"))


def check(paths, hdr, node=None):
    """Problems: the committed manifest and map differ from the header."""
    probs = []
    for path, want in ((paths.manifest, manifest_text(
            make_manifest(hdr, paths.map, node))),
            (paths.map, make_map(hdr, paths.map, node))):
        d = diff(path, want, paths.rel(path))
        if d:
            probs.append("%s does not match abi/weft.h (run `make "
                         "abi-update`):" % paths.rel(path))
            probs.append("".join(d).rstrip("\n"))
    return probs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--srcdir", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), os.pardir),
        help="the source tree (default: this script's ..)")
    ap.add_argument("--node", help="version node for new symbols "
                    "(default: the newest node in abi/weft.map)")
    ap.add_argument("command", choices=["manifest", "map", "check", "types",
                                        "names", "exports"])
    ap.add_argument("lib", nargs="?", help="the built library (exports)")
    args = ap.parse_args(argv)
    paths = Paths(os.path.normpath(args.srcdir))
    try:
        hdr = parse_header(paths.header)
    except (OSError, AbiError) as e:
        print("abi.py: %s: %s" % (paths.header, e), file=sys.stderr)
        return 2
    if args.command == "manifest":
        text = manifest_text(make_manifest(hdr, paths.map, args.node))
        write_if_changed(paths.manifest, text)
    elif args.command == "map":
        write_if_changed(paths.map, make_map(hdr, paths.map, args.node))
    elif args.command == "names":
        for f in hdr.functions:
            print(f.name)
    else:
        if args.command == "check":
            probs = check(paths, hdr, args.node)
        elif args.command == "exports":
            if not args.lib:
                ap.error("exports needs the library's path")
            probs = export_problems(hdr, paths.map, args.lib)
        else:
            probs = check_types(hdr)
        for p in probs:
            print(p)
        if probs:
            return 1
        print("abi.py %s: %d functions, %d callbacks: ok"
              % (args.command, len(hdr.functions), len(hdr.callbacks)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
