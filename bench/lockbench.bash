#!/usr/bin/env bash
# Benchmark the lock layer, old toolchain vs new, interleaved run by run
# (old, new, old, new, ...) so that drift on a shared machine hits both
# sides alike, then compare with benchstat (golang.org/x/perf).
#
#   bench/lockbench.bash [-count N] [-benchtime T] [-cpu LIST] [-bench REGEXP] OLD_GOROOT NEW_GOROOT OUTDIR
#
# e.g. bench/lockbench.bash -count 10 /usr/local/go goroot /tmp/lockbench
# OUTDIR gets old.txt and new.txt (benchfmt, raw) and benchstat.txt.
set -euo pipefail
count=10 benchtime=1s cpu=
runtime_bench='^(BenchmarkWakeupParallelSpinning|BenchmarkWakeupParallelSyscall|BenchmarkPingPongHog|BenchmarkChanContended|BenchmarkChanCreation|BenchmarkMutexHandoff)$'
while [ $# -gt 3 ]; do
	case $1 in
	-count) count=$2; shift 2 ;;
	-benchtime) benchtime=$2; shift 2 ;;
	-cpu) cpu=$2; shift 2 ;;
	-bench) runtime_bench=$2; shift 2 ;;
	*) echo "lockbench: unknown flag $1" >&2; exit 2 ;;
	esac
done
[ $# -eq 3 ] || { echo "usage: $0 [-count N] [-benchtime T] [-cpu LIST] [-bench REGEXP] OLD_GOROOT NEW_GOROOT OUTDIR" >&2; exit 2; }
old=$(cd "$1" && pwd) new=$(cd "$2" && pwd) out=$3
mkdir -p "$out"
benchstat=$(command -v benchstat || echo "$(go env GOPATH)/bin/benchstat")
[ -x "$benchstat" ] || { echo "lockbench: benchstat not found: go install golang.org/x/perf/cmd/benchstat@latest" >&2; exit 1; }
start=$(date +%s)
for side in old new; do
	root=$old; [ $side = new ] && root=$new
	echo "$side: $("$root/bin/go" version)"
	GOROOT=$root GOTOOLCHAIN=local GOFLAGS= "$root/bin/go" test -c -o "$out/$side.runtime.test" runtime
	: > "$out/$side.txt"
done
args=(-test.run='^$' -test.bench="$runtime_bench" -test.benchtime="$benchtime" -test.count=1)
[ -n "$cpu" ] && args+=(-test.cpu="$cpu")
for i in $(seq "$count"); do
	for side in old new; do
		echo "[$(( $(date +%s) - start ))s] run $i of $count: $side"
		"$out/$side.runtime.test" "${args[@]}" >> "$out/$side.txt"
	done
done
"$benchstat" old="$out/old.txt" new="$out/new.txt" | tee "$out/benchstat.txt"
