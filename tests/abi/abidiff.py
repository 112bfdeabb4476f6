"""abidiff.py - the built library's ABI is the committed baseline's.

`abidiff --no-added-syms abi/weft.abi <lib>` must exit 0: any nonzero
status fails (abidiff sets only bit 4, ABIDIFF_ABI_CHANGE, for a changed
signature).  abidiff misses signature changes in a library without DWARF,
so the library must have .debug_info; and a baseline with one parameter's
type changed must be reported, so a pass means something.

Skipped when abidiff is not installed, and in sanitizer builds (the
instrumented library is not the one the baseline describes).
"""

import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from abitest import BASELINE, SANITIZER, Tap, abi, weft_lib

t = Tap()
lib = weft_lib()
if SANITIZER:
    t.skip_all("sanitizer build (%s): the instrumented library differs "
               "from the baseline" % SANITIZER)
abidiff = os.environ.get("ABIDIFF") or shutil.which("abidiff")
if not abidiff or not os.access(abidiff, os.X_OK):
    t.skip_all("abidiff (libabigail) is not installed")

STATUS_BITS = {1: "ABIDIFF_ERROR", 2: "ABIDIFF_USAGE_ERROR",
               4: "ABIDIFF_ABI_CHANGE", 8: "ABIDIFF_ABI_INCOMPATIBLE_CHANGE"}


def run(args):
    p = subprocess.Popen(args, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True,
                         env=abi.tool_env())
    out = p.communicate()[0]
    return p.returncode, out


def explain(rc):
    bits = [name for bit, name in sorted(STATUS_BITS.items()) if rc & bit]
    return "exit status %d (%s)" % (rc, " | ".join(bits) or "?")


rc, out = run(["readelf", "-S", "-W", lib])
t.ok(rc == 0 and ".debug_info" in out,
     "the library has debug info (.debug_info), which abidiff needs",
     "readelf -S %s: %s\n%s" % (lib, explain(rc) if rc else "no .debug_info",
                                out[-2000:]))

if not t.ok(os.path.exists(BASELINE), "the baseline abi/weft.abi exists",
            "make it with `make abi-update` (docs/abi.md)"):
    t.done()

rc, out = run([abidiff, "--no-added-syms", BASELINE, lib])
t.ok(rc == 0, "abidiff --no-added-syms abi/weft.abi <lib> exits 0",
     "%s\n%s\nIf the change is intended (before the first release only, "
     "ABI.md 9), run `make abi-update` and say why in the commit."
     % (explain(rc), out))

# The same comparison against a baseline with one parameter's type
# changed (double <-> int) must fail: proof that the comparison sees
# signatures at all.
tmp = tempfile.mkdtemp(prefix="weft-abidiff.")
try:
    tree = ET.parse(BASELINE)
    root = tree.getroot()
    ids = dict((e.get("name"), e.get("id")) for e in root.iter("type-decl"))
    changed = None
    for fd in root.iter("function-decl"):
        param = fd.find("parameter")
        if fd.get("elf-symbol-id") is None or param is None:
            continue
        old = param.get("type-id")
        new = ids.get("int") if old == ids.get("double") else ids.get("double")
        if new and "double" in ids and "int" in ids:
            param.set("type-id", new)
            changed = fd.get("name")
            break
    if changed is None:
        t.ok(False, "abidiff reports a changed parameter type",
             "the baseline has no function with a parameter to change")
    else:
        mutated = os.path.join(tmp, "mutated.abi")
        tree.write(mutated)
        rc, out = run([abidiff, "--no-added-syms", mutated, lib])
        t.ok(rc != 0 and changed in out,
             "abidiff reports a changed parameter type (%s)" % changed,
             "%s\n%s" % (explain(rc), out))
finally:
    shutil.rmtree(tmp)
t.done()
