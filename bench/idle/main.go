// Command idle is the idle program of bench/idlecpu.bash: run with "sleep",
// one goroutine sleeps for 10 s; with "tick", a goroutine locked to its
// thread waits for a 1 ms ticker for 10 s (a mostly idle program whose every
// wakeup is an M handoff).
package main

import (
	"os"
	"runtime"
	"time"
)

func main() {
	switch os.Args[1] {
	case "sleep":
		time.Sleep(10 * time.Second)
	case "tick":
		runtime.LockOSThread()
		t := time.NewTicker(time.Millisecond)
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
			<-t.C
		}
	}
}
