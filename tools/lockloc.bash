#!/usr/bin/env bash
# Lines of lock-layer code (non-blank, non-comment) at the base and at the
# top of the series in goroot/: lock_futex*.go and lock_sema*.go (tests
# excluded), plus, at the base, the callbacks that patches 0001-0002 move out
# of os_*.go (counted from the lines they remove).
#
#   tools/lockloc.bash [goroot]
set -euo pipefail
goroot=${1:-$(dirname "$0")/../goroot}
g() { git -C "$goroot" "$@"; }
code() { grep -v '^\s*//' | grep -v '^\s*$' | wc -l; }
base=$(g rev-list --max-parents=0 HEAD)
lockfiles() { g ls-tree --name-only "$1" src/runtime/ | grep -E 'lock_(futex|sema)[a-z_]*\.go$' | grep -v '_test\.go$' || true; }
count() { local t=0 n; for f in $(lockfiles "$1"); do n=$(g show "$1:$f" | code); printf '  %-36s %4d\n' "${f#src/runtime/}" "$n" >&2; t=$((t+n)); done; echo $t; }
echo "base $(g log -1 --format=%s "$base"):" >&2
b=$(count "$base")
moved=$(g log --format=%H "$base..HEAD" --grep='^runtime: move .* callbacks into per-OS files' | while read -r c; do g diff "$c~1" "$c" -- 'src/runtime/os*.go' | grep '^-[^-]' | sed 's/^-//'; done | code)
printf '  %-36s %4d\n' "callbacks in os_*.go" "$moved" >&2
echo "series (HEAD):" >&2
a=$(count HEAD)
echo "lock-layer code lines: $((b+moved)) -> $a"
