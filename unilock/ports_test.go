package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"unilock/internal/ports"
)

func TestPortsFullFlags(t *testing.T) {
	tests := []struct {
		args    []string
		full    bool
		pkgs    []string
		scale   int
		timeout time.Duration
		err     string
	}{
		{nil, false, nil, 0, 15 * time.Minute, ""},
		{[]string{"-full"}, true, ports.FullPackages, 0, 30 * time.Minute, ""},
		{[]string{"-full", "-pkgs", "sync,test/chan", "-scale", "6", "-reruns", "0", "-timeout", "5m"}, true, []string{"sync", "test/chan"}, 6, 5 * time.Minute, ""},
		{[]string{"-full", "-run", "Mutex"}, false, nil, 0, 0, "-full runs whole packages"},
		{[]string{"-pkgs", "sync"}, false, nil, 0, 0, "-pkgs applies to -full"},
		{[]string{"-full", "-scale", "-1"}, false, nil, 0, 0, "-scale -1"},
		{[]string{"-full", "-reruns", "-2"}, false, nil, 0, 0, "-reruns -2"},
		{[]string{"-full", "-pkgs", "test/fixedbugs"}, false, nil, 0, 0, "only test/chan"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			o, fs := portsFlags("ports", "", "")
			pkgs := fullFlags(o, fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := o.parseFull(fs, *pkgs)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || o.full != tt.full || !slices.Equal(o.pkgs, tt.pkgs) || o.scale != tt.scale || o.timeout != tt.timeout {
				t.Errorf("full %v pkgs %q scale %d timeout %v err %v; want %v %q %d %v", o.full, o.pkgs, o.scale, o.timeout, err, tt.full, tt.pkgs, tt.scale, tt.timeout)
			}
		})
	}
}
