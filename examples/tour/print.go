package main

import (
	"fmt"
	"io"
	"sync"
)

// A printer writes the tour's lines to out. Goroutines and the loop print at
// the same time, so it writes one whole line at a time, under a lock.
type printer struct {
	mu      sync.Mutex // guards out
	out     io.Writer
	verbose bool
}

// Printf prints one line.
func (p *printer) Printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, format+"\n", args...)
}

// Verbosef prints one line if the tour runs with -v.
func (p *printer) Verbosef(format string, args ...any) {
	if p.verbose {
		p.Printf(format, args...)
	}
}
