//go:build linux && cgo

package main

/*
#include <unistd.h>
#include <sys/syscall.h>

// The library's state lives in thread-local storage, as the current context
// of OpenGL, CUDA or an embedded interpreter does: each OS thread that calls
// the library sees a counter of its own.
static __thread long counter;

// counter_reset initializes the calling thread's counter (the library's init).
static void counter_reset(void) { counter = 0; }

// counter_incr adds one to the calling thread's counter and returns it, with
// the id of the thread that ran it.
static long counter_incr(long *tid) {
	*tid = syscall(SYS_gettid);
	return ++counter;
}

// counter_get returns the calling thread's counter and the thread's id.
static long counter_get(long *tid) {
	*tid = syscall(SYS_gettid);
	return counter;
}
*/
import "C"

// A reading is what one call into the C library returns: the counter of the
// thread it ran on, and that thread's id.
type reading struct {
	Count  int
	Thread int
}

// incr adds one to the calling thread's C counter.
func incr() reading {
	var tid C.long
	n := C.counter_incr(&tid)
	return reading{Count: int(n), Thread: int(tid)}
}

// get reads the calling thread's C counter.
func get() reading {
	var tid C.long
	n := C.counter_get(&tid)
	return reading{Count: int(n), Thread: int(tid)}
}

// reset zeroes the calling thread's C counter.
func reset() { C.counter_reset() }
