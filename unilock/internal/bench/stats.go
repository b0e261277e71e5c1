package bench

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// Key names one row: a benchmark at a GOMAXPROCS.
type Key struct {
	Pkg   string
	Bench string // without "Benchmark" and the -N suffix
	CPU   int
}

// Samples reads benchfmt results and returns the values of unit per row.
func Samples(r io.Reader, name, unit string) (map[Key][]float64, error) {
	out := map[Key][]float64{}
	br := benchfmt.NewReader(r, name)
	for br.Scan() {
		res, ok := br.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		v, ok := res.Value(unit)
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) || res.Iters == 0 {
			continue
		}
		b, cpu := SplitName(string(res.Name))
		k := Key{Pkg: res.GetConfig("pkg"), Bench: b, CPU: cpu}
		out[k] = append(out[k], v)
	}
	if err := br.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Valid returns the benchfmt text without the result lines that hold no
// measurement (0 iterations, or a NaN or Inf value: MutexHandoff's ping-pong
// benchmarks at GOMAXPROCS=1 print "0 NaN ns/op"), and the names left out.
// benchstat's Mann-Whitney U test does not terminate on a NaN sample.
func Valid(data []byte) (out []byte, dropped []string) {
	seen := map[string]bool{}
	var b strings.Builder
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 4 && strings.HasPrefix(f[0], "Benchmark") {
			bad := f[1] == "0"
			for _, v := range f[2:] {
				if x, err := strconv.ParseFloat(v, 64); err == nil && (math.IsNaN(x) || math.IsInf(x, 0)) {
					bad = true
				}
			}
			if bad {
				if !seen[f[0]] {
					seen[f[0]] = true
					dropped = append(dropped, strings.TrimPrefix(f[0], "Benchmark"))
				}
				continue
			}
		}
		b.WriteString(l)
	}
	return []byte(b.String()), dropped
}

// SplitName splits a benchmark name as printed ("ChanContended-8") into its
// base and GOMAXPROCS; go test prints no suffix for GOMAXPROCS=1.
func SplitName(name string) (string, int) {
	name = strings.TrimPrefix(name, "Benchmark")
	if i := strings.LastIndex(name, "-"); i >= 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i], n
		}
	}
	return name, 1
}

// Point is one row compared: old and new summaries (median and its 95%
// confidence interval) and the comparison's p-value.
type Point struct {
	Key
	Old, New benchmath.Summary
	P        float64
	N        int // samples per side (the smaller)
}

// Compare summarizes every row present on both sides.
func Compare(old, new map[Key][]float64, alpha float64) []Point {
	th := &benchmath.Thresholds{CompareAlpha: alpha}
	var ps []Point
	for k, ov := range old {
		nv, ok := new[k]
		if !ok {
			continue
		}
		so, sn := benchmath.NewSample(append([]float64(nil), ov...), th), benchmath.NewSample(append([]float64(nil), nv...), th)
		c := benchmath.AssumeNothing.Compare(so, sn)
		ps = append(ps, Point{
			Key: k, P: c.P, N: min(len(ov), len(nv)),
			Old: benchmath.AssumeNothing.Summary(so, 0.95),
			New: benchmath.AssumeNothing.Summary(sn, 0.95),
		})
	}
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i].Key, ps[j].Key
		if a.Pkg != b.Pkg {
			return a.Pkg < b.Pkg
		}
		if a.Bench != b.Bench {
			return a.Bench < b.Bench
		}
		return a.CPU < b.CPU
	})
	return ps
}

// Rows counts the distinct rows of a sample set.
func Rows(m map[Key][]float64) int { return len(m) }

// Verdict says in a word how a point changed at significance alpha.
func (p Point) Verdict(alpha float64) string {
	if p.P >= alpha || p.Old.Center == 0 {
		return "~"
	}
	d := (p.New.Center - p.Old.Center) / p.Old.Center * 100
	return fmt.Sprintf("%+.1f%%", d)
}
