"""exports.py - the exported symbols, the manifest, the version script and
the header's declarations are the same set; only weft_* is exported, each
in the version node the map gives it."""

import re

from abitest import (MAP, Tap, abi, duplicates, load_manifest,
                     same_set, weft_lib, HEADER)

t = Tap()
lib = weft_lib()

header = [f.name for f in abi.parse_header(HEADER).functions]
manifest = load_manifest()
man_names = [f["name"] for f in manifest["functions"]]
map_nodes, node_order = abi.read_map_nodes(MAP)
with open(MAP, encoding="utf-8") as f:
    map_text = abi.strip_comments_and_cpp(f.read())
map_names = re.findall(r"\b(weft_\w+)\s*;", map_text)

t.ok(len(header) > 0, "abi/weft.h declares WEFT_API functions")
t.ok(not duplicates(header), "abi/weft.h declares each function once",
     "twice: %s" % " ".join(duplicates(header)))
t.ok(not duplicates(man_names), "the manifest lists each function once",
     "twice: %s" % " ".join(duplicates(man_names)))
t.ok(not duplicates(map_names), "abi/weft.map lists each symbol once",
     "twice: %s" % " ".join(duplicates(map_names)))
t.ok(len(man_names) == len(header),
     "the manifest has as many functions as the header",
     "manifest %d, header %d" % (len(man_names), len(header)))
d = same_set(man_names, header, "abi/weft.manifest.json", "abi/weft.h")
t.ok(not d, "the manifest and the header name the same functions", d)
d = same_set(map_names, header, "abi/weft.map", "abi/weft.h")
t.ok(not d, "the version script and the header name the same functions", d)
t.ok(all(n in node_order for n in set(map_nodes.values())) and node_order,
     "the version script has version nodes", "nodes: %r" % node_order)
bad = ["%s: %s in the manifest, %s in the map" % (f["name"], f["version"],
                                                 map_nodes.get(f["name"]))
       for f in manifest["functions"]
       if map_nodes.get(f["name"]) != f["version"]]
t.ok(not bad, "the manifest's version nodes are the map's", "\n".join(bad))

# The built library's dynamic symbol table (nm -D --defined-only).
try:
    versions = abi.library_exports(lib, node_order)
except Exception as e:  # OSError, subprocess.CalledProcessError
    t.ok(False, "nm -D lists the library's symbols", str(e))
    t.done()
exported = sorted(versions)
t.ok(len(exported) > 0, "the library exports symbols")
prefixless = [n for n in exported
              if not n.startswith("weft_") or n.startswith("weft__")]
t.ok(not prefixless, "the library exports only weft_* names",
     "also exported: %s" % " ".join(prefixless))
d = same_set(exported, header, "the library (nm -D)", "abi/weft.h")
t.ok(not d, "the library exports exactly the header's functions", d)
bad = ["%s@%s, map says %s" % (n, versions[n], map_nodes[n])
       for n in exported if n in map_nodes and versions[n] != map_nodes[n]]
t.ok(not bad, "each symbol carries the version node the map gives it",
     "\n".join(bad))
t.done()
