package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress draws a one-line progress bar on a terminal stream. Its
// methods may be called from several goroutines.
type progress struct {
	mu    sync.Mutex // guards last and the writes to w
	w     io.Writer
	label string
	total int
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, label string, total int) *progress {
	return &progress{w: w, label: label, total: total, start: time.Now()}
}

// set draws the bar at n of total (at most 10 times a second).
func (p *progress) set(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(n)
}

// draw is set with p.mu held.
func (p *progress) draw(n int) {
	if time.Since(p.last) < 100*time.Millisecond && n < p.total {
		return
	}
	p.last = time.Now()
	frac := 1.0
	if p.total > 0 {
		frac = float64(n) / float64(p.total)
	}
	width := 30
	filled := int(frac * float64(width))
	rate := float64(n) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d %.0f/s", p.label, strings.Repeat("█", filled), strings.Repeat(" ", width-filled), n, p.total, rate)
}

// done ends the bar's line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(p.total)
	fmt.Fprintf(p.w, " in %s\n", time.Since(p.start).Round(time.Millisecond))
}
