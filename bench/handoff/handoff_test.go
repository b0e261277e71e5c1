// Copyright 2026 The Unilock Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package handoff benchmarks M handoffs with any toolchain (the shapes that
// a bounded spin in notesleep would speed up; unilock issue 14):
//
//	goroot/bin/go test -run '^$' -bench . -cpu 2,4 -count 10 bench/handoff/handoff_test.go
//
// They use only the public API, so upstream and the fork run the same code.
package handoff

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// The benchmarks in this file measure M handoffs: an M that parks in
// notesleep (stopm, stoplockedm) and is woken by notewakeup moments later
// (startm, startlockedm). Each such handoff costs a futex wake, a futex
// wait and two context switches unless notesleep catches the wakeup before
// it sleeps. See go.dev/issue/21827.

// BenchmarkLockedThreadPingPong is the shape of go.dev/issue/21827: a
// goroutine locked to its thread exchanges a value over unbuffered
// channels with an ordinary goroutine. Every receive of the locked
// goroutine parks its M in stoplockedm and hands its P to another M;
// every send to it hands the P back with startlockedm.
func BenchmarkLockedThreadPingPong(b *testing.B) {
	benchmarkLockedPingPong(b, true, false)
}

// BenchmarkLockedThreadPingPongBoth locks both goroutines to their
// threads: every exchange is two handoffs between locked Ms.
func BenchmarkLockedThreadPingPongBoth(b *testing.B) {
	benchmarkLockedPingPong(b, true, true)
}

// BenchmarkUnlockedPingPong is the baseline of the two above: the same
// exchange with no goroutine locked, which the scheduler serves without
// handing Ms over.
func BenchmarkUnlockedPingPong(b *testing.B) {
	benchmarkLockedPingPong(b, false, false)
}

func benchmarkLockedPingPong(b *testing.B, lockPing, lockPong bool) {
	ping, pong := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if lockPong {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		for v := range ping {
			pong <- v + 1
		}
	}()
	if lockPing {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ping <- i
		if v := <-pong; v != i+1 {
			b.Fatalf("got %d, want %d", v, i+1)
		}
	}
	b.StopTimer()
	close(ping)
	wg.Wait()
}

// BenchmarkWakeIdleP measures startm's wake-up of a parked M: each
// iteration readies a goroutine while every other P is idle and its M
// parked in stopm, after a pause long enough that no M is still spinning
// for work, so the wake-up goes through wakep, startm and notewakeup. The
// pause (a busy wait: a time.Sleep would park this M too) dominates
// ns/op; the wake-up itself is reported as wake-ns/op. b.StopTimer would
// stop the world on every iteration, waking every M.
func BenchmarkWakeIdleP(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs GOMAXPROCS >= 2: with one P no M is woken")
	}
	c, done := make(chan int), make(chan int)
	go func() {
		for v := range c {
			done <- v
		}
	}()
	var wake time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for end := time.Now().Add(200 * time.Microsecond); time.Now().Before(end); {
		}
		t0 := time.Now()
		c <- i // readies the receiver, and wakes an M for it
		<-done
		wake += time.Since(t0)
	}
	b.StopTimer()
	close(c)
	b.ReportMetric(float64(wake.Nanoseconds())/float64(b.N), "wake-ns/op")
}

// BenchmarkLockedThreadLateWake is the worst case of a bounded poll before
// an M parks: a goroutine locked to its thread waits for a value that
// another goroutine sends only after 100µs of work, longer than any poll.
// Each wait parks the locked M in stoplockedm while a P runs Go code, so
// the poll runs to its bound and then sleeps anyway; the CPU it spent shows
// in cpu-sec/op, beside the 100µs of work that every op costs.
func BenchmarkLockedThreadLateWake(b *testing.B) {
	c := make(chan int)
	go func() {
		for i := 0; i < b.N; i++ {
			for end := time.Now().Add(100 * time.Microsecond); time.Now().Before(end); {
			}
			c <- i
		}
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for i := 0; i < b.N; i++ {
		if v := <-c; v != i {
			b.Fatalf("got %d, want %d", v, i)
		}
	}
}
