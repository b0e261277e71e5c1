#!/usr/bin/env bash
# Build the Unilock toolchain: verify the upstream base, materialise goroot/
# (base + patches/), and run goroot/src/make.bash. See README.md.
#   ./make.bash           build, or say it is up to date
#   ./make.bash --force   discard work in goroot/ that is not in patches/
exec "$(dirname "$0")/unilock/unilock.bash" make "$@"
