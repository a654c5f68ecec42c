#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerate the build system from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
# automake installs its TAP driver only on request: every test here speaks TAP.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
autoreconf --install --force
