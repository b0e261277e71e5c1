#!/usr/bin/env bash
# CPU time, context switches and futex system calls of an idle program built
# by two toolchains, interleaved run by run, counted by the kernel's perf
# events for the whole process (every thread): the idle check of the M
# handoff poll (notespin). bench/idle runs 10 s: "sleep" is one goroutine in
# time.Sleep, "tick" a goroutine locked to its thread waiting on a 1 ms
# ticker (a mostly idle program whose every wakeup is an M handoff).
#
#   bench/idlecpu.bash [-runs N] OLD_GOROOT NEW_GOROOT
#
# e.g. bench/idlecpu.bash -runs 5 .unilock/upstream goroot
# Needs perf and, for the futex count, root (it mounts tracefs if needed).
set -euo pipefail
runs=5
while [ $# -gt 2 ]; do
	case $1 in
	-runs) runs=$2; shift 2 ;;
	*) echo "idlecpu: unknown flag $1" >&2; exit 2 ;;
	esac
done
[ $# -eq 2 ] || { echo "usage: $0 [-runs N] OLD_GOROOT NEW_GOROOT" >&2; exit 2; }
command -v perf >/dev/null || { echo "idlecpu: perf not found: apt-get install linux-perf (or linux-tools-\$(uname -r))" >&2; exit 1; }
events=task-clock,context-switches
if [ "$(id -u)" = 0 ]; then
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing || true
	[ -d /sys/kernel/tracing/events/syscalls/sys_enter_futex ] && events=$events,syscalls:sys_enter_futex
fi
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for side in old new; do
	root=$1; shift
	GOTOOLCHAIN=local GOFLAGS= "$root/bin/go" build -o "$tmp/$side" "$here/idle/main.go"
	echo "$side: $("$root/bin/go" version)"
done
echo "events: $events; $runs runs of 10 s per program and side, interleaved"
for i in $(seq "$runs"); do
	order="old new"; [ $((i % 2)) = 0 ] && order="new old"
	for mode in sleep tick; do
		for side in $order; do
			perf stat -x, -e "$events" "$tmp/$side" "$mode" 2>"$tmp/perf" >/dev/null
			awk -F, -v s="$side" -v m="$mode" '
				$3 == "task-clock" { cpu = $1 }
				$3 == "context-switches" { cs = $1 }
				$3 ~ /sys_enter_futex/ { fx = $1 }
				END { printf "%s %s %s %s %s\n", m, s, cpu, cs, (fx == "" ? "-" : fx) }' "$tmp/perf" >> "$tmp/counts"
		done
	done
done
printf "%-6s %-4s %5s %22s %22s %22s\n" prog side runs "CPU ms median [min-max]" "ctxsw median [min-max]" "futex median [min-max]"
sort -k1,1 -k2,2r "$tmp/counts" | awk '
function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function flush() {
	if (k == "") return
	split(k, kk, " ")
	printf "%-6s %-4s %5d %10.2f [%.2f-%.2f] %10.0f [%d-%d] %10s\n", kk[1], kk[2], n, med(c, n), cmin, cmax, med(x, n), xmin, xmax, (f[1] == "-" ? "-" : sprintf("%.0f [%d-%d]", med(f, n), fmin, fmax))
}
{
	key = $1 " " $2
	if (key != k) { flush(); k = key; n = 0; delete c; delete x; delete f }
	n++; c[n] = $3; x[n] = $4; f[n] = $5
	if (n == 1 || $3 < cmin) cmin = $3; if (n == 1 || $3 > cmax) cmax = $3
	if (n == 1 || $4 < xmin) xmin = $4; if (n == 1 || $4 > xmax) xmax = $4
	if ($5 != "-") { if (n == 1 || $5 < fmin) fmin = $5; if (n == 1 || $5 > fmax) fmax = $5 }
}
END { flush() }'
