"""Where the ABI manifest (abi/weft.manifest.json) is, and reading it.

An installed package carries a copy next to its modules; in a source tree
it is abi/weft.manifest.json three levels up.  $WEFT_MANIFEST overrides.
"""

import json
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "weft.manifest.json"


def path(package_dirs=(_HERE,)):
    """The manifest's path, or raise FileNotFoundError saying where we
    looked."""
    env = os.environ.get("WEFT_MANIFEST")
    if env:
        return env
    tried = [os.path.join(d, NAME) for d in package_dirs]
    tried.append(os.path.normpath(os.path.join(_HERE, os.pardir, os.pardir,
                                               os.pardir, "abi", NAME)))
    for candidate in tried:
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError("weft: the ABI manifest is not in any of %s "
                            "(set WEFT_MANIFEST)" % ", ".join(tried))


def load(package_dirs=(_HERE,)):
    with open(path(package_dirs), encoding="utf-8") as f:
        return json.load(f)
