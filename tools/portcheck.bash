#!/usr/bin/env bash
# tools/portcheck.bash GOROOT [build|test]: compile runtime (build) or also link the runtime
# test binary (test) for every port in go tool dist list.
root=$(cd "$1" && pwd); what=${2:-build}
out=$(mktemp)
check() {
  os=${1%/*}; arch=${1#*/}
  if [ "$os" = android ] || [ "$os" = ios ]; then
    # These link only externally (NDK, Xcode): compile runtime, no test binary.
    msg=$(GOROOT=$root GOOS=$os GOARCH=$arch CGO_ENABLED=1 $root/bin/go build runtime 2>&1); rc=$?; how="runtime only"
  elif [ "$what" = test ]; then
    msg=$(GOROOT=$root GOOS=$os GOARCH=$arch CGO_ENABLED=0 $root/bin/go test -c -o /dev/null runtime 2>&1); rc=$?; how="runtime + test binary"
  else
    msg=$(GOROOT=$root GOOS=$os GOARCH=$arch CGO_ENABLED=0 $root/bin/go build runtime 2>&1); rc=$?; how="runtime"
  fi
  if [ $rc -eq 0 ]; then echo "ok   $1 ($how)"; else echo "FAIL $1 ($how)"; echo "$msg" | head -8 | sed 's/^/     /'; fi
}
export -f check; export root what
GOROOT=$root $root/bin/go tool dist list | xargs -P 2 -I{} bash -c 'check {}' > "$out"
total=$(GOROOT=$root $root/bin/go tool dist list | wc -l)
good=$(grep -ac '^ok ' "$out")
sort "$out" | grep -a -v '^     ' ; grep -a -A8 '^FAIL' "$out"
echo "ports: $good of $total compile ($what)"
rm -f "$out"
[ "$good" -eq "$total" ]
