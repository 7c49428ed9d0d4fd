//go:build linux && cgo

package tcl

// #include "abi.h"
import "C"

import (
	"context"
	"runtime/cgo"
	"time"

	"github.com/threadrunner/threadrunner/aio"
)

// A host is the Go half of the notifier of one loop's thread (notifier.c
// is the C half): it keeps Tcl's timer as an AfterFunc of the loop and
// watches each file handler's descriptor with a task, and services Tcl's
// events when either fires. The interpreters of that thread share it. It
// is loop-owned: Tcl calls its hooks on the loop's thread, inside a task
// step, and its AfterFunc runs there too.
type host struct {
	loop   *aio.Loop
	handle cgo.Handle         // what notifier.c's hooks find it by
	ctx    context.Context    // the context of the tasks it starts
	cancel context.CancelFunc // ends them, when the last interpreter exits
	users  int                // interpreters on the thread

	curr     *aio.Task        // the task whose step runs Tcl now, for Go commands
	panicked *aio.PanicError  // a Go command's panic, for the task that called into Tcl
	stop     func() bool      // stops the pending AfterFunc of Tcl's timer
	watches  map[int]*watches // file handlers' watchers, by descriptor
}

// hostFor returns the host of t's loop thread, made the first time.
func hostFor(t *aio.Task) *host {
	if hv := C.th_host_get(); hv != 0 {
		h := cgo.Handle(hv).Value().(*host)
		if h.loop == t.Loop() {
			h.users++
			return h
		}
		// Left by a loop that ran on this thread before and did not exit
		// its interpreters: its tasks are gone with that loop.
		h.users = 1
		h.release()
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &host{loop: t.Loop(), ctx: ctx, cancel: cancel, users: 1, watches: make(map[int]*watches)}
	h.handle = cgo.NewHandle(h)
	C.th_host_set(C.uintptr_t(h.handle))
	C.th_service_mode_all()
	return h
}

// release drops one interpreter's hold; the last one stops the timer and
// the watchers and detaches the host from the thread.
func (h *host) release() {
	if h.users--; h.users > 0 {
		return
	}
	if h.stop != nil {
		h.stop()
	}
	for fd, w := range h.watches {
		w.cancel()
		delete(h.watches, fd)
	}
	h.cancel()
	if C.th_host_get() == C.uintptr_t(h.handle) {
		C.th_host_set(0)
	}
	h.handle.Delete()
}

// enter records t as the task running Tcl, until the returned func is
// called: entries nest (a Go command that evaluates a script).
func (h *host) enter(t *aio.Task) (leave func()) {
	prev := h.curr
	h.curr = t
	return func() { h.curr = prev }
}

// repanic panics with the panic of a Go command that Tcl has unwound from.
func (h *host) repanic() {
	if pe := h.panicked; pe != nil && h.curr == nil {
		h.panicked = nil
		panic(pe)
	}
}

// service lets Tcl handle its events that are due, in task t.
func (h *host) service(t *aio.Task, readyFD int) {
	aio.NoAwait(t, func() {
		defer h.enter(t)()
		if readyFD >= 0 {
			C.th_file_ready(C.int(readyFD))
		}
		C.th_service()
	})
	h.repanic()
}

// goSetTimer is Tcl's setTimer hook: service Tcl's events after sec and
// usec, or never if set is 0. Tcl calls it whenever its next timer
// changes (after, Tcl_ServiceAll's end).
//
//export goSetTimer
func goSetTimer(hv C.uintptr_t, set C.int, sec, usec C.long) {
	h := cgo.Handle(hv).Value().(*host)
	if h.stop != nil {
		h.stop()
		h.stop = nil
	}
	if set == 0 || h.ctx.Err() != nil {
		return
	}
	d := time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
	h.stop = h.loop.AfterFunc(d, h.fire)
}

// fire runs when Tcl's timer is due, as a callback: it starts a task to
// service Tcl's events, since Go commands run inside a task.
func (h *host) fire() {
	aio.Spawn(h.ctx, h.loop, func(t *aio.Task) (struct{}, error) {
		h.service(t, -1)
		return struct{}{}, nil
	})
}

// watches are the tasks that wait for one descriptor of a file handler:
// one for reading, one for writing, as its mask asks.
type watches struct {
	mask  int
	tasks []*aio.Future[struct{}]
}

func (w *watches) cancel() {
	for _, f := range w.tasks {
		f.Cancel()
	}
}

// goWatch is the createFileHandler and deleteFileHandler hook: watch fd
// for what mask asks (TCL_READABLE, TCL_WRITABLE; 0 to stop). An
// exception-only handler is served in nested event loops only.
//
//export goWatch
func goWatch(hv C.uintptr_t, fd, mask C.int) {
	h := cgo.Handle(hv).Value().(*host)
	m := int(mask) & (C.TH_READABLE | C.TH_WRITABLE)
	if w := h.watches[int(fd)]; w != nil {
		if w.mask == m {
			return
		}
		w.cancel()
		delete(h.watches, int(fd))
	}
	if m == 0 || h.ctx.Err() != nil {
		return
	}
	w := &watches{mask: m}
	if m&C.TH_READABLE != 0 {
		w.tasks = append(w.tasks, aio.Spawn(h.ctx, h.loop, h.watcher(int(fd), aio.WaitReadable)))
	}
	if m&C.TH_WRITABLE != 0 {
		w.tasks = append(w.tasks, aio.Spawn(h.ctx, h.loop, h.watcher(int(fd), aio.WaitWritable)))
	}
	h.watches[int(fd)] = w
}

// watcher returns the task that waits for fd to be ready, with wait, and
// services Tcl's events each time, until it is cancelled.
func (h *host) watcher(fd int, wait func(*aio.Task, uintptr) error) func(*aio.Task) (struct{}, error) {
	return func(t *aio.Task) (struct{}, error) {
		for {
			if err := wait(t, uintptr(fd)); err != nil {
				return struct{}{}, err
			}
			h.service(t, fd)
			// A handler that leaves the descriptor ready (it did not
			// read) makes the next wait return at once: let the loop's
			// other tasks run between two rounds.
			if err := aio.Sleep(t, 0); err != nil {
				return struct{}{}, err
			}
		}
	}
}
