//go:build linux

package aio_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// pipe returns a pipe's read and write ends as raw, blocking descriptors
// (not *os.File, which the runtime poller would own), closed when the test
// ends.
func pipe(t testing.TB) (r, w uintptr) {
	t.Helper()
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		t.Fatalf("Pipe2() = %v", err)
	}
	t.Cleanup(func() {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
	})
	return uintptr(fds[0]), uintptr(fds[1])
}

// blocking reports whether fd's open file is in blocking mode.
func blocking(t testing.TB, fd uintptr) bool {
	t.Helper()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	if errno != 0 {
		t.Fatalf("fcntl(F_GETFL) = %v", errno)
	}
	return flags&syscall.O_NONBLOCK == 0
}

// fillPipe writes to w until its buffer is full, so that it is not
// writable; it returns how many bytes it wrote.
func fillPipe(t testing.TB, w uintptr) int {
	t.Helper()
	if err := syscall.SetNonblock(int(w), true); err != nil {
		t.Fatal(err)
	}
	defer syscall.SetNonblock(int(w), false)
	buf := make([]byte, 4096)
	n := 0
	for {
		m, err := syscall.Write(int(w), buf)
		if err == syscall.EAGAIN {
			return n
		}
		if err != nil {
			t.Fatalf("Write() = %v", err)
		}
		n += m
	}
}

// TestWaitReadable checks that WaitReadable returns once another task, or
// another goroutine, has written to the pipe; at once if data is there
// already; and that the descriptor keeps its blocking mode.
func TestWaitReadable(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	r, w := pipe(t)

	// Another task writes once the waiter has suspended: the loop runs one
	// task at a time, so the writer runs only then.
	got := call(t, l, func(t *aio.Task) (string, error) {
		waiter := aio.Go(t, func(t *aio.Task) (int, error) { return 0, aio.WaitReadable(t, r) })
		writer := aio.Go(t, func(t *aio.Task) (int, error) { return syscall.Write(int(w), []byte("x")) })
		if _, err := aio.Await(t, writer); err != nil {
			return "", err
		}
		_, err := aio.Await(t, waiter)
		return fmt.Sprint(err), nil
	})
	if got != "<nil>" {
		t.Errorf("WaitReadable() after another task wrote = %s; want nil", got)
	}

	// Readable already (the byte is still there): no suspension needed.
	if err := call(t, l, func(t *aio.Task) (error, error) { return aio.WaitReadable(t, r), nil }); err != nil {
		t.Errorf("WaitReadable() with data waiting = %v; want nil", err)
	}
	syscall.Read(int(r), make([]byte, 1))

	// Another goroutine writes, whenever it gets to it.
	go syscall.Write(int(w), []byte("y"))
	if err := call(t, l, func(t *aio.Task) (error, error) { return aio.WaitReadable(t, r), nil }); err != nil {
		t.Errorf("WaitReadable() with a goroutine writing = %v; want nil", err)
	}
	if !blocking(t, r) {
		t.Errorf("the read end is non-blocking after WaitReadable; want its mode unchanged")
	}

	// End of file is readable too.
	syscall.Read(int(r), make([]byte, 1))
	go syscall.Close(int(w))
	if err := call(t, l, func(t *aio.Task) (error, error) { return aio.WaitReadable(t, r), nil }); err != nil {
		t.Errorf("WaitReadable() with the write end closed = %v; want nil", err)
	}
	checkLoopServes(t, l)
}

// TestWaitWritable checks that WaitWritable returns at once on a pipe with
// room, and on a full pipe once another goroutine has drained it.
func TestWaitWritable(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	r, w := pipe(t)
	if err := call(t, l, func(t *aio.Task) (error, error) { return aio.WaitWritable(t, w), nil }); err != nil {
		t.Errorf("WaitWritable(empty pipe) = %v; want nil", err)
	}
	n := fillPipe(t, w)
	go func() { // whenever it gets to it: before or after the waiter suspends
		buf := make([]byte, n)
		for n > 0 {
			m, err := syscall.Read(int(r), buf[:n])
			if err != nil {
				return
			}
			n -= m
		}
	}()
	if err := call(t, l, func(t *aio.Task) (error, error) { return aio.WaitWritable(t, w), nil }); err != nil {
		t.Errorf("WaitWritable(full pipe, drained by a goroutine) = %v; want nil", err)
	}
	if !blocking(t, w) {
		t.Errorf("the write end is non-blocking after WaitWritable; want its mode unchanged")
	}
}

// TestWaitWritableFullPipe checks the suspended path of WaitWritable
// deterministically: a task drains the full pipe once the waiter suspended.
func TestWaitWritableFullPipe(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	r, w := pipe(t)
	n := fillPipe(t, w)
	got := call(t, l, func(t *aio.Task) (string, error) {
		waiter := aio.Go(t, func(t *aio.Task) (int, error) { return 0, aio.WaitWritable(t, w) })
		drainer := aio.Go(t, func(t *aio.Task) (int, error) { return syscall.Read(int(r), make([]byte, n)) })
		if _, err := aio.Await(t, drainer); err != nil {
			return "", err
		}
		_, err := aio.Await(t, waiter)
		return fmt.Sprint(err), nil
	})
	if got != "<nil>" {
		t.Errorf("WaitWritable() after another task drained the pipe = %s; want nil", got)
	}
}

// TestWaitFDCancel checks that cancelling the waiting task, by Future.Cancel
// or by a deadline, ends the wait at once with the context's error, and
// leaves no goroutine behind (leaktest).
func TestWaitFDCancel(t *testing.T) {
	waits := map[string]func(*aio.Task, uintptr) error{"WaitReadable": aio.WaitReadable, "WaitWritable": aio.WaitWritable}
	for name, wait := range waits {
		t.Run(name, func(t *testing.T) {
			testkit.Check(t)
			l := startLoop(t)
			r, w := pipe(t)
			fd := r
			if name == "WaitWritable" {
				fillPipe(t, w)
				fd = w
			}
			started := make(chan struct{})
			f := aio.Spawn(testkit.Context(t), l, func(t *aio.Task) (int, error) {
				close(started)
				return 0, wait(t, fd)
			})
			<-started
			f.Cancel()
			testkit.Do(t, "Wait after Cancel", func() {
				if _, err := f.Wait(testkit.Context(t)); !errors.Is(err, context.Canceled) {
					t.Errorf("%s() after Cancel = %v; want context.Canceled", name, err)
				}
			})

			ctx, cancel := context.WithTimeout(testkit.Context(t), 20*time.Millisecond)
			defer cancel()
			testkit.Do(t, "Call with a deadline", func() {
				_, err := aio.Call(ctx, l, func(t *aio.Task) (int, error) { return 0, wait(t, fd) })
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s() past its deadline = %v; want context.DeadlineExceeded", name, err)
				}
			})
			checkLoopServes(t, l)
		})
	}
}

// TestWaitFDClose checks that closing the loop while tasks wait for
// descriptors cancels them (ErrClosed and context.Canceled), that Close
// returns, and that no helper goroutine is left.
func TestWaitFDClose(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	r, _ := pipe(t)
	var fs []*aio.Future[int]
	for range 8 {
		fs = append(fs, aio.Spawn(testkit.Context(t), l, func(t *aio.Task) (int, error) { return 0, aio.WaitReadable(t, r) }))
	}
	testkit.WaitFor(t, "the waiters to start", func() bool { return l.Stats().Tasks == len(fs) })
	want := fmt.Sprintf("WaitReadable for fd %d to be readable", r)
	testkit.WaitFor(t, "the task dump to show the waits", func() bool {
		tasks, err := l.Tasks(testkit.Context(t))
		n := 0
		for _, ti := range tasks {
			if ti.Awaiting == want {
				n++
			}
		}
		return err == nil && n == len(fs)
	})
	testkit.Do(t, "Close", func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	})
	for i, f := range fs {
		_, err := f.Wait(testkit.Context(t))
		if !errors.Is(err, aio.ErrClosed) || !errors.Is(err, context.Canceled) {
			t.Errorf("waiter %d after Close: %v; want ErrClosed and context.Canceled", i, err)
		}
	}
}

// TestWaitFDMany checks many waits at once, on one pipe and on a pipe each,
// scaled by GOMAXPROCS: every waiter returns once its pipe has data.
func TestWaitFDMany(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	n := 64 * runtime.GOMAXPROCS(0)
	shared, sharedW := pipe(t)
	own := make([][2]uintptr, n)
	for i := range own {
		own[i][0], own[i][1] = pipe(t)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			_, err := aio.Call(testkit.Context(t), l, func(t *aio.Task) (int, error) {
				g := aio.NewGroup(t)
				g.Go(func(t *aio.Task) error { return aio.WaitReadable(t, shared) })
				g.Go(func(t *aio.Task) error { return aio.WaitReadable(t, own[i][0]) })
				return 0, g.Wait()
			})
			errs <- err
		})
	}
	go func() {
		syscall.Write(int(sharedW), []byte("x"))
		for i := range own {
			syscall.Write(int(own[i][1]), []byte("x"))
		}
	}()
	testkit.Do(t, "the waiters", wg.Wait)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a waiter returned %v; want nil", err)
		}
	}
}

// TestWaitFDBadInput checks that a descriptor that is not open is an
// ErrInvalid error (and EBADF), at once; and that a wait inside NoAwait
// panics with NoAwait's rule instead of suspending.
func TestWaitFDBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	r, w := pipe(t)
	closed := dupFD(t, r)
	syscall.Close(int(closed))
	for _, fd := range []uintptr{closed, 1 << 40, ^uintptr(0)} {
		for name, wait := range map[string]func(*aio.Task, uintptr) error{"WaitReadable": aio.WaitReadable, "WaitWritable": aio.WaitWritable} {
			err := call(t, l, func(t *aio.Task) (error, error) { return wait(t, fd), nil })
			if !errors.Is(err, aio.ErrInvalid) || !errors.Is(err, syscall.EBADF) {
				t.Errorf("%s(fd %d) = %v; want ErrInvalid and EBADF", name, fd, err)
			}
		}
	}
	got := call(t, l, func(t *aio.Task) (string, error) {
		var p any
		aio.NoAwait(t, func() { p = testkit.RecoverPanic(func() { aio.WaitReadable(t, r) }) })
		return fmt.Sprint(p), nil
	})
	if !strings.Contains(got, "WaitReadable inside NoAwait") {
		t.Errorf("WaitReadable inside NoAwait panicked with %q; want the NoAwait rule", got)
	}
	// Inside NoAwait, a ready descriptor still needs no suspension.
	syscall.Write(int(w), []byte("x"))
	if err := call(t, l, func(t *aio.Task) (err error, _ error) {
		aio.NoAwait(t, func() { err = aio.WaitReadable(t, r) })
		return err, nil
	}); err != nil {
		t.Errorf("WaitReadable(ready fd) inside NoAwait = %v; want nil", err)
	}
	if p := testkit.RecoverPanic(func() { aio.WaitReadable(nil, r) }); !strings.Contains(fmt.Sprint(p), "nil *Task") {
		t.Errorf("WaitReadable(nil, fd) panicked with %v; want the nil *Task message", p)
	}
	checkLoopServes(t, l)
}

// dupFD returns a duplicate of fd.
func dupFD(t testing.TB, fd uintptr) uintptr {
	t.Helper()
	d, err := syscall.Dup(int(fd))
	if err != nil {
		t.Fatal(err)
	}
	return uintptr(d)
}

// TestWaitFDStreamStopped checks that a generator waiting for a descriptor
// when its consumer stops the stream gets ErrStopped, as from any await.
func TestWaitFDStreamStopped(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	r, _ := pipe(t)
	got := make(chan error, 1)
	gen := func(t *aio.Task, yield func(int) bool) error {
		if !yield(1) {
			return nil
		}
		err := aio.WaitReadable(t, r)
		got <- err
		return err
	}
	s := aio.OpenStream(testkit.Context(t), l, gen, aio.BatchSize(1), aio.Buffer(1))
	if _, err := s.Next(testkit.Context(t)); err != nil {
		t.Fatalf("Next() = %v", err)
	}
	testkit.Do(t, "Stream.Close", func() { s.Close() })
	if err := <-got; !errors.Is(err, aio.ErrStopped) {
		t.Errorf("WaitReadable() when the stream stopped = %v; want ErrStopped", err)
	}
}
