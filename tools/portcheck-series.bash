#!/usr/bin/env bash
# Check that each patch of the series builds on its own: for every commit
# above the base in goroot/ (except the fork's VERSION commit), check the
# tree out at that commit in a scratch worktree and compile runtime for every
# port with tools/portcheck.bash.
#
#   tools/portcheck-series.bash [goroot]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
goroot=$(cd "${1:-$here/../goroot}" && pwd)
base=$(git -C "$goroot" rev-list --max-parents=0 HEAD)
wt=$(mktemp -d)/tree
git -C "$goroot" worktree add -q --detach "$wt" "$base"
trap 'git -C "$goroot" worktree remove --force "$wt"' EXIT
# The worktree shares goroot/'s toolchain and the files cmd/dist generated.
ln -s "$goroot/bin" "$wt/bin"; ln -s "$goroot/pkg" "$wt/pkg"
for f in $(grep '^/src/.*\.go$' "$goroot/.git/info/exclude"); do cp "$goroot$f" "$wt$f"; done
fail=0
for c in $(git -C "$goroot" rev-list --reverse "$base..HEAD"); do
	git -C "$goroot" log -1 --format=%B "$c" | grep -q '^Unilock-Fork-Commit: true' && continue
	git -C "$wt" checkout -q --detach "$c"
	echo "== $(git -C "$wt" log -1 --format='%h %s')"
	"$here/portcheck.bash" "$wt" build | tail -1 || fail=1
done
exit $fail
