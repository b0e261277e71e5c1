#!/usr/bin/env bash
# Test the Unilock toolchain built by ./make.bash. See README.md.
#   ./run.bash            the tool's tests, then the lock-layer tiers
#   ./run.bash -all       the whole upstream suite (go tool dist test)
exec "$(dirname "$0")/unilock/unilock.bash" test "$@"
