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
// is the C half): a task of the loop sleeps until Tcl's timer is due, on
// the loop's timers, a task per file handler waits for its descriptor, and
// each services Tcl's events when it wakes. The interpreters of that thread
// share it. It is loop-owned: Tcl calls its hooks on the loop's thread,
// inside a task step.
//
// The timer task lives as long as the host, rather than an AfterFunc per
// timer starting a task to service Tcl (Go commands run inside a task): on
// a 2-CPU VM, starting a task from an AfterFunc every 10ms cost about
// 70 ms of CPU per second, the long-lived task about 25, and a task of
// the loop sleeping as often without Tcl about 15 (bench/cmd/tcl).
type host struct {
	loop   *aio.Loop
	handle cgo.Handle         // what notifier.c's hooks find it by
	ctx    context.Context    // the context of the tasks it starts
	cancel context.CancelFunc // ends them, when the last interpreter exits
	users  int                // interpreters on the thread

	curr     *aio.Task        // the task whose step runs Tcl now, for Go commands
	panicked *aio.PanicError  // a Go command's panic, for the task that called into Tcl
	due      time.Time        // when Tcl's timer wants its events serviced; zero: never
	kick     aio.Event        // set when due changes, for the timer task
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
	aio.Spawn(ctx, h.loop, h.serveTimer)
	return h
}

// release drops one interpreter's hold; the last one stops the timer and
// the watchers and detaches the host from the thread.
func (h *host) release() {
	if h.users--; h.users > 0 {
		return
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
// changes (after, Tcl_ServiceAll's end), always inside a task step.
//
//export goSetTimer
func goSetTimer(hv C.uintptr_t, set C.int, sec, usec C.long) {
	h := cgo.Handle(hv).Value().(*host)
	h.due = time.Time{}
	if set != 0 {
		h.due = time.Now().Add(time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond)
	}
	h.kick.Set()
}

// serveTimer is the timer task: it sleeps until Tcl's timer is due, or
// until the timer changes, and services Tcl's events when it is due.
func (h *host) serveTimer(t *aio.Task) (struct{}, error) {
	for {
		cases := []aio.Case{aio.IsSet(&h.kick)}
		if !h.due.IsZero() {
			cases = append(cases, aio.After(time.Until(h.due)))
		}
		if _, err := aio.Select(t, cases...); err != nil {
			return struct{}{}, err
		}
		h.kick.Clear()
		if !h.due.IsZero() && !time.Now().Before(h.due) {
			h.due = time.Time{}
			h.service(t, -1)
		}
	}
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
