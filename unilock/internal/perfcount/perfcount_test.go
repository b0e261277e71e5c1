package perfcount

import (
	"errors"
	"strings"
	"testing"
)

func counts(src Source, v ...float64) Counts {
	var c Counts
	for i, x := range v {
		c.V[i], c.Source[i] = x, src
	}
	return c
}

func TestPerOp(t *testing.T) {
	mixed := counts(Perf, 1e6, 10, 20, 30)
	mixed.Source[Futex] = Strace
	for _, tt := range []struct {
		name       string
		small, big Counts
		nS, nB     int
		want       [NumCounters]float64
		src        [NumCounters]Source
	}{
		{"start-up cancels", counts(Perf, 5e6, 100, 40, 300), counts(Perf, 5e6+1000*2500, 100+1000*2, 40+1000*3, 300+1000*7), 2, 1002,
			[NumCounters]float64{2500, 2, 3, 7}, [NumCounters]Source{Perf, Perf, Perf, Perf}},
		{"fewer than per op", counts(Perf, 0, 10, 10, 10), counts(Perf, 0, 11, 10, 15), 2, 12,
			[NumCounters]float64{0, 0.1, 0, 0.5}, [NumCounters]Source{Perf, Perf, Perf, Perf}},
		{"noise below zero", counts(Rusage, 3e6, 50), counts(Rusage, 2e6, 49), 2, 102,
			[NumCounters]float64{-1e4, -0.01}, [NumCounters]Source{Rusage, Rusage}},
		{"sources differ: not counted", counts(Perf, 1e6, 10, 20, 30), mixed, 2, 3,
			[NumCounters]float64{0, 0, 0, 0}, [NumCounters]Source{Perf, Perf, None, Perf}},
		{"no iterations between", counts(Perf, 1, 1, 1, 1), counts(Perf, 2, 2, 2, 2), 5, 5,
			[NumCounters]float64{}, [NumCounters]Source{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, src := PerOp(tt.small, tt.big, tt.nS, tt.nB)
			if src != tt.src {
				t.Fatalf("sources %v, want %v", src, tt.src)
			}
			for _, c := range Counters {
				if d := v[c] - tt.want[c]; d > 1e-9 || d < -1e-9 {
					t.Errorf("%s: %g, want %g", c, v[c], tt.want[c])
				}
			}
		})
	}
}

func TestFormatValue(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{2500, "2500"},
		{1234567.891, "1.23457e+06"},
		{0.125, "0.125"},
		{-0.01, "-0.01"},
		{0, "0"},
		{1.0 / 3, "0.333333"},
	} {
		if got := FormatValue(tt.v); got != tt.want {
			t.Errorf("FormatValue(%g) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestUnitsAndDescribe(t *testing.T) {
	want := map[Counter]string{CPU: "cpu-ns/op", CtxSw: "ctxsw/op", Futex: "futex/op", Syscalls: "syscalls/op"}
	for c, u := range want {
		if c.Unit() != u {
			t.Errorf("%s: unit %q, want %q", c, c.Unit(), u)
		}
	}
	s := &Setup{}
	s.perf[CPU] = &event{}
	s.Why[Futex] = errors.New("tracefs is not mounted")
	d := s.Describe()
	for _, line := range []string{
		"cpu-ns/op    CPU time: perf event task-clock",
		"futex/op     futex system calls: not counted by perf events; perf event syscalls:sys_enter_futex: tracefs is not mounted",
	} {
		if !strings.Contains(d, line+"\n") {
			t.Errorf("Describe lacks %q:\n%s", line, d)
		}
	}
	o := s.Only(CtxSw, Futex)
	if o.Source(CPU) != Rusage || o.Source(Futex) != None || o.Why[Futex] == nil {
		t.Errorf("Only(CtxSw, Futex): CPU by %s, futex by %s (%v); want rusage, not counted, the reason kept", o.Source(CPU), o.Source(Futex), o.Why[Futex])
	}
	if rusageCtxSw && !strings.Contains(d, "ctxsw/op     context switches: rusage of the child (ru_nvcsw+ru_nivcsw)\n") {
		t.Errorf("Describe lacks the rusage fallback for context switches:\n%s", d)
	}
}
