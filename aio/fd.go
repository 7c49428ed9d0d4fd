package aio

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// WaitReadable suspends t until the file descriptor fd is readable: until a
// read from it would not block, because data, end of file, a hang-up or an
// error is there to be read (asyncio's add_reader, as an await). It reads
// nothing and leaves fd as it found it; a foreign event loop hosted by the
// loop (Tcl, X11, GLib, D-Bus, libuv) uses it to learn when to service its
// own sources. Nothing polls: the wait is made through Go's runtime poller
// (epoll on Linux) by a goroutine that holds a duplicate of fd and hands the
// outcome back to the loop, so other tasks run meanwhile and an idle wait
// costs no CPU. If fd is readable already, WaitReadable returns at once,
// without suspending.
//
// If t is or gets cancelled (its context ends, [Future.Cancel], the loop's
// Close), WaitReadable returns the context's error at once, readable or not;
// nothing has been consumed, so nothing is lost. A stopped stream's
// generator gets [ErrStopped], as from any await. The loop's Close waits for
// the helper goroutine, which ends as soon as the wait does.
//
// fd stays the caller's: WaitReadable does not close it, and closing it
// meanwhile does not end the wait (the duplicate keeps the file open; cancel
// t to stop waiting). A descriptor that is not open returns an error that is
// [ErrInvalid] and syscall.EBADF; one of a kind the poller cannot watch that
// is not ready at once (rare: regular files are always ready) returns the
// poller's error. WaitReadable must be called by t itself (a nil t, or a
// call from anywhere else, panics, as with every await); inside [NoAwait]
// it panics unless fd is ready at once, since it would have to suspend. It
// is supported on Linux, and elsewhere returns an error that is
// errors.ErrUnsupported.
func WaitReadable(t *Task, fd uintptr) error { return waitFD(t, fd, false, "WaitReadable") }

// WaitWritable suspends t until the file descriptor fd is writable: until a
// write to it would not block (or would fail at once, as on a pipe whose
// reader has gone). It writes nothing. In every other way it is
// [WaitReadable]: cancellation, errors, who may call it, where it works.
func WaitWritable(t *Task, fd uintptr) error { return waitFD(t, fd, true, "WaitWritable") }

// waitFD is WaitReadable and WaitWritable: op names the caller.
func waitFD(t *Task, fd uintptr, write bool, op string) error {
	t.mustRun(op)
	if err := t.awaitErr(); err != nil {
		return err
	}
	ready, err := fdReady(fd, write)
	if err != nil {
		return fdError(op, fd, err)
	}
	if ready {
		return nil
	}
	t.mustSuspend(op) // before the helper starts
	f, err := watchFD(fd)
	if err != nil {
		return fdError(op, fd, err)
	}
	l := t.l
	w := &fdWait{t: t, f: f, fd: fd, write: write}
	l.helpers.Add(1)
	go w.wait(l, write)
	var stopErr error
	for !w.back {
		t.waitOn = w
		t.suspend(op)
		if stopErr == nil {
			if stopErr = t.awaitErr(); stopErr != nil {
				w.stop()
			}
		}
	}
	if stopErr != nil {
		return stopErr
	}
	if w.err != nil {
		return fdError(op, fd, w.err)
	}
	return nil
}

// An fdWait is one blocking WaitReadable or WaitWritable: a helper goroutine
// waits in the runtime poller on a duplicate of the descriptor, then closes
// the duplicate and posts itself back to the loop.
type fdWait struct {
	itemLink
	t     *Task
	f     *os.File // the duplicate; its deadline ends the helper's wait
	fd    uintptr  // the caller's descriptor, for the task dump
	write bool

	// Written by the helper before it posts the fdWait back.
	err error

	back bool // loop-owned: the helper has answered
}

func (w *fdWait) wait(l *Loop, write bool) {
	defer l.helpers.Done()
	w.err = pollWait(w.f, write)
	w.f.Close()
	l.inbox.post(w)
}

// stop ends the helper's wait at once: a deadline in the past wakes it.
// It is safe while the helper runs, and after it has closed the file.
func (w *fdWait) stop() {
	w.f.SetDeadline(aLongTimeAgo)
}

func (w *fdWait) describe() string {
	if w.write {
		return fmt.Sprintf("for fd %d to be writable", w.fd)
	}
	return fmt.Sprintf("for fd %d to be readable", w.fd)
}

func (w *fdWait) runOnLoop(l *Loop) {
	w.back = true
	l.wake(w.t)
}

// aLongTimeAgo is a deadline that has passed: setting it ends a wait.
var aLongTimeAgo = time.Unix(1, 0)

// fdError wraps an error of a wait for fd; a descriptor that is not open is
// bad input.
func fdError(op string, fd uintptr, err error) error {
	if errors.Is(err, syscall.EBADF) {
		return invalid("%s: fd %d: %w", op, fd, err)
	}
	return fmt.Errorf("aio: %s: fd %d: %w", op, fd, err)
}
