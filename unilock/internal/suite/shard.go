// Package suite runs Go's whole test suite, go tool dist test, with the fork
// and with upstream built the same way, and classifies every test: passed on
// both, a new failure (the fork fails, upstream passes, on every rerun), a
// failure both share (an environment limit), fixed by the fork, or flaky. It
// shards the suite as Go's builders do, merges shard results, and writes the
// result as JSON and as a Markdown table.
package suite

import (
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Shard is shard I of N (1 <= I <= N); N <= 1 is the whole suite.
type Shard struct{ I, N int }

// All is the whole suite, unsharded.
var All = Shard{1, 1}

// ParseShard reads "i/n".
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return All, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("bad shard %q: want i/n with 1 <= i <= n, e.g. -shard 2/4", s)
	}
	return Shard{i, n}, nil
}

func (s Shard) String() string {
	if s.N <= 1 {
		return "1/1"
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// Has reports whether the dist test name belongs to the shard: as
// golangbuild shards, the CRC-32 (IEEE) of the name modulo N picks the shard,
// so every name lands in exactly one of the N shards, the same one on every
// machine.
func (s Shard) Has(name string) bool {
	if s.N <= 1 {
		return true
	}
	return int(crc32.ChecksumIEEE([]byte(name))%uint32(s.N)) == s.I-1
}

// Select returns the names of the shard, in their order.
func (s Shard) Select(names []string) []string {
	var out []string
	for _, n := range names {
		if s.Has(n) {
			out = append(out, n)
		}
	}
	return out
}
