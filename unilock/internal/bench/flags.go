package bench

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseCPU parses a -cpu list as go test takes it: comma-separated
// GOMAXPROCS values, each a whole number of at least 1.
func ParseCPU(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("-cpu %q: give GOMAXPROCS values, e.g. -cpu 1,2,4", s)
	}
	var cpus []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-cpu %q: %q is not a GOMAXPROCS value (a whole number of at least 1); e.g. -cpu 1,2,4", s, f)
		}
		cpus = append(cpus, n)
	}
	return cpus, nil
}

// CheckBenchtime checks a -benchtime value as go test takes it: a positive
// duration (0.2s, 1m) or a positive iteration count (100x).
func CheckBenchtime(s string) error {
	if n, ok := strings.CutSuffix(s, "x"); ok {
		if i, err := strconv.Atoi(n); err == nil && i > 0 {
			return nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return nil
	}
	return fmt.Errorf("-benchtime %q: give a positive duration (0.2s, 1m) or a number of iterations (100x)", s)
}

// CheckAlpha checks a -alpha significance level: 0 (the default, corrected
// for the number of rows) or a value between 0 and 1.
func CheckAlpha(a float64) error {
	if a < 0 || a >= 1 || a != a {
		return fmt.Errorf("-alpha %g: give a significance level between 0 and 1 (0.05), or 0 for 0.05 over the number of rows", a)
	}
	return nil
}
