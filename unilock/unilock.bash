#!/usr/bin/env bash
# Builds the unilock tool (cached by the go command) and runs it.
# Usage: unilock/unilock.bash <command> [arguments]   (see: unilock/unilock.bash help)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
if ! command -v go >/dev/null 2>&1; then
	echo "unilock: no go command on PATH to build the tool with." >&2
	echo "Install Go 1.26 or newer (https://go.dev/dl/) and put its bin/ on PATH; it also bootstraps the fork." >&2
	exit 1
fi
mkdir -p "$root/.unilock/bin"
if ! (cd "$here" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o "$root/.unilock/bin/unilock" .); then
	echo "unilock: building the tool failed (see above); it needs Go 1.26 or newer and the module proxy for golang.org/x modules." >&2
	exit 1
fi
UNILOCK_ROOT="$root" exec "$root/.unilock/bin/unilock" "$@"
