// Package goid tells goroutines apart and reads their stacks, for checks and
// reports off the hot path: the loop's identity checks, the slow-task
// watchdog, and the test kit's leak check and watchdog. Stack dumps are parsed
// here and nowhere else.
package goid

import "runtime"

// Get returns the calling goroutine's id, parsed from the first line of its
// stack trace ("goroutine 18 [running]:"). It costs microseconds and does not
// allocate. The main goroutine's id is 1.
func Get() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	return parseID(buf[len(headerPrefix):n])
}

// Stacks returns the stack traces of all goroutines, as runtime.Stack prints
// them: one block per goroutine, blocks separated by a blank line (see
// [Parse]). It stops the world while it takes them.
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
