// Package phase prints the phases of a long step with the time elapsed since
// the step began, so a person watching a 4-minute build knows where it is.
package phase

import (
	"fmt"
	"io"
	"time"
)

// Clock prints phase lines to W.
type Clock struct {
	W     io.Writer
	start time.Time
}

// New starts a clock now.
func New(w io.Writer) *Clock {
	return &Clock{W: w, start: time.Now()}
}

// Elapsed is the time since the clock started.
func (c *Clock) Elapsed() time.Duration { return time.Since(c.start) }

// Phase prints one phase line: "[  1m02s] text".
func (c *Clock) Phase(format string, args ...any) {
	fmt.Fprintf(c.W, "[%7s] %s\n", Format(c.Elapsed()), fmt.Sprintf(format, args...))
}

// Format prints d the way phase lines do: 0.4s, 12.3s, 3m05s.
func Format(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
}
