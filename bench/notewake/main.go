// Copyright 2026 The Unilock Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Notewake wakes runtime notes that nobody sleeps on, the case where the
// futex-based notes of go1.26.8 made a FUTEX_WAKE system call for nothing.
// It reaches the runtime's notes by linkname, so it must be built with
//
//	go build -ldflags=-checklinkname=0
//
// and counted with strace -f -e trace=futex. Each round clears and wakes a
// note: upstream makes one FUTEX_WAKE per round, the fork none.
package main

import (
	"flag"
	"fmt"
	_ "unsafe" // for go:linkname
)

// note mirrors runtime.note on every OS with threads.
type note struct {
	key uintptr
}

//go:linkname noteclear runtime.noteclear
func noteclear(n *note)

//go:linkname notewakeup runtime.notewakeup
func notewakeup(n *note)

func main() {
	rounds := flag.Int("rounds", 100000, "notewakeups on a note nobody sleeps on")
	flag.Parse()
	var n note
	for i := 0; i < *rounds; i++ {
		noteclear(&n)
		notewakeup(&n)
	}
	fmt.Printf("notewake: %d wakeups of an unslept note\n", *rounds)
}
