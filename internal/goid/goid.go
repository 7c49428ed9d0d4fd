// Package goid tells goroutines apart and reads their stacks, for checks and
// reports off the hot path.
package goid

import "runtime"

// Get returns the calling goroutine's id, parsed from the first line of its
// stack trace ("goroutine 18 [running]:"). It costs microseconds. The main
// goroutine's id is 1.
func Get() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	const prefix = "goroutine "
	var id uint64
	for _, c := range buf[len(prefix):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// Stacks returns the stack traces of all goroutines, as runtime.Stack prints
// them: one block per goroutine, blocks separated by a blank line. It stops
// the world while it takes them.
func Stacks() []byte {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}
