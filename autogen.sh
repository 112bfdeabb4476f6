#!/bin/sh
# Regenerate the build system.  The autoconf-archive macros weft uses are
# vendored in m4/, so only autoconf, automake, libtool and pkg-config are
# needed.
set -e
cd "$(dirname "$0")"
autoreconf --force --install --warnings=all,no-portability
