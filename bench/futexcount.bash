#!/usr/bin/env bash
# Count the futex system calls of a workload built by two toolchains,
# interleaved run by run, with strace (exact counts; noteload's totals vary
# with scheduling, so it reports the mean, min and max over the runs).
#
#   bench/futexcount.bash [-runs N] [-prog noteload|notewake] OLD_GOROOT NEW_GOROOT
#
# e.g. bench/futexcount.bash -runs 10 /usr/local/go goroot
#      bench/futexcount.bash -runs 3 -prog notewake /usr/local/go goroot
set -euo pipefail
runs=10 prog=noteload
while [ $# -gt 2 ]; do
	case $1 in
	-runs) runs=$2; shift 2 ;;
	-prog) prog=$2; shift 2 ;;
	*) echo "futexcount: unknown flag $1" >&2; exit 2 ;;
	esac
done
ldflags=; [ "$prog" = notewake ] && ldflags=-checklinkname=0
[ $# -eq 2 ] || { echo "usage: $0 [-runs N] [-prog noteload|notewake] OLD_GOROOT NEW_GOROOT" >&2; exit 2; }
command -v strace >/dev/null || { echo "futexcount: strace not found: apt-get install strace" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for side in old new; do
	root=$1; shift
	GOTOOLCHAIN=local GOFLAGS= "$root/bin/go" build -ldflags="$ldflags" -o "$tmp/$side" "$here/$prog/main.go"
	echo "$side: $("$root/bin/go" version)"
done
for i in $(seq "$runs"); do
	for side in old new; do
		strace -f -qq -e trace=futex -o "$tmp/trace" "$tmp/$side" >/dev/null
		wait=$(grep -c 'FUTEX_WAIT' "$tmp/trace" || true)
		wake=$(grep -c 'FUTEX_WAKE' "$tmp/trace" || true)
		echo "$side $wait $wake" >> "$tmp/counts"
	done
done
printf "%-4s %6s %26s %26s %10s\n" "" runs "FUTEX_WAIT mean [min-max]" "FUTEX_WAKE mean [min-max]" total
awk '
{ w[$1]+=$2; k[$1]+=$3; n[$1]++
  if (!($1 in wmin) || $2<wmin[$1]) wmin[$1]=$2; if ($2>wmax[$1]) wmax[$1]=$2
  if (!($1 in kmin) || $3<kmin[$1]) kmin[$1]=$3; if ($3>kmax[$1]) kmax[$1]=$3 }
END {
  for (s in n) printf "%-4s %6d %10.0f [%6d-%6d] %10.0f [%6d-%6d] %10.0f\n", s, n[s], w[s]/n[s], wmin[s], wmax[s], k[s]/n[s], kmin[s], kmax[s], (w[s]+k[s])/n[s]
}' "$tmp/counts" | sort -r
