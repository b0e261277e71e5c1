// Copyright 2026 The Unilock Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Noteload is a workload heavy in runtime notes, for counting the futex
// system calls a toolchain's lock layer makes:
//
//	strace -f -qq -e trace=futex -o trace.txt ./noteload
//
// It stops and starts the world (runtime.GC), parks and unparks Ms (bursts
// of goroutines on idle Ps), and hands channel values between Ps. Every run
// does the same work; the number of system calls varies with scheduling,
// so compare the mean over several runs.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
)

var sink uint64

func spin(n int) {
	x := uint64(n)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink += x
}

func main() {
	gcs := flag.Int("gc", 200, "stop-the-world cycles (runtime.GC)")
	bursts := flag.Int("bursts", 2000, "bursts of goroutines started on idle Ps")
	pings := flag.Int("pings", 20000, "channel round trips between two goroutines")
	flag.Parse()

	for i := 0; i < *gcs; i++ {
		runtime.GC()
	}
	for i := 0; i < *bursts; i++ {
		var wg sync.WaitGroup
		for j := 0; j < 2*runtime.GOMAXPROCS(0); j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				spin(2000)
			}()
		}
		wg.Wait()
	}
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	for i := 0; i < *pings; i++ {
		ping <- i
		<-pong
	}
	close(ping)
	fmt.Printf("noteload: %d GCs, %d bursts, %d pings, GOMAXPROCS=%d\n", *gcs, *bursts, *pings, runtime.GOMAXPROCS(0))
}
