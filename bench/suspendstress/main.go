// Copyright 2026 The Unilock Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Suspendstress exercises the paths where the windows runtime holds a
// thread suspended: async preemption (preemptM, which every GC's
// stop-the-world and stack scan asks for, and which goroutines in tight
// loops need) and the CPU profiler (profileLoop suspends each thread, and
// sigprof's profile buffer writes wake the reader). Meanwhile other
// goroutines contend on a sync.Mutex and hand values over channels, so
// that threads are inside the lock layer's sleeps and wakeups when they are
// suspended. A deadlock there hangs the program; run it under a timeout:
//
//	GOOS=windows goroot/bin/go build -o stress.exe bench/suspendstress/main.go
//	for i in $(seq 20); do timeout 60 wine stress.exe -d 5s || echo FAIL $i; done
//
// It prints what it did: GC cycles, channel and mutex operations, and the
// size of the CPU profile written.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	d := flag.Duration("d", 5*time.Second, "how long to run")
	flag.Parse()

	var prof bytes.Buffer
	runtime.SetCPUProfileRate(1000)
	if err := pprof.StartCPUProfile(&prof); err != nil {
		// The rate was set above; StartCPUProfile warns and goes on.
		fmt.Fprintln(os.Stderr, "cpu profile:", err)
	}
	stop := make(chan struct{})
	var spins, handoffs, locks atomic.Int64
	var wg sync.WaitGroup
	procs := runtime.GOMAXPROCS(0)

	// Tight loops: only async preemption stops these.
	for i := 0; i < procs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				x := 0
				for j := 0; j < 1e6; j++ {
					x += j
				}
				spins.Add(int64(x & 1))
			}
		}()
	}
	// Channel handoffs and a contended mutex: sleeps and wakeups.
	var mu sync.Mutex
	shared := 0
	for i := 0; i < 2*procs; i++ {
		c := make(chan int)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					close(c)
					return
				case c <- 1:
				}
				mu.Lock()
				shared++
				mu.Unlock()
				locks.Add(1)
			}
		}()
		go func() {
			defer wg.Done()
			for range c {
				handoffs.Add(1)
				if handoffs.Load()%100 == 0 {
					time.Sleep(50 * time.Microsecond)
				}
			}
		}()
	}
	gcs := 0
	for start := time.Now(); time.Since(start) < *d; gcs++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	pprof.StopCPUProfile()
	fmt.Printf("ok: %v, GOMAXPROCS=%d: %d GCs, %d channel handoffs, %d mutex sections, CPU profile %d bytes\n",
		*d, procs, gcs, handoffs.Load(), locks.Load(), prof.Len())
}
