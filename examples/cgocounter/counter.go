//go:build linux && cgo

package main

/*
#include <stdint.h>
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

// counter_visit calls back into Go (goVisit, in callback.go) with each of
// the next n values of the calling thread's counter, as a library that
// dispatches events to its host does.
extern void goVisit(long value, uintptr_t handle);
static void counter_visit(long n, uintptr_t handle) {
	for (long i = 1; i <= n; i++) goVisit(counter + i, handle);
}
*/
import "C"

import "runtime/cgo"

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

// visit has the C library call fn back with each of the next n values of
// the calling thread's counter. fn runs on this thread, inside the C call:
// from a task, it must not await (see aio.NoAwait).
func visit(n int, fn func(v int)) {
	h := cgo.NewHandle(fn)
	defer h.Delete()
	C.counter_visit(C.long(n), C.uintptr_t(h))
}
