//go:build linux && cgo

package tcl_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/examples/tcl/tcl"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// tidCommand is a Go command that returns the OS thread it runs on.
func tidCommand(*aio.Task, []string) (string, error) { return strconv.Itoa(syscall.Gettid()), nil }

// TestEvalFromManyGoroutines checks the example's point: the same script
// from 16 goroutines through threadrunner.Run gives exact results, every
// call on the loop's one thread.
func TestEvalFromManyGoroutines(t *testing.T) {
	testkit.Check(t)
	r, in := newInterp(t)
	command(t, r, in, "tid", tidCommand)
	eval(t, r, in, "set ::n 0")
	const g, n = 16, 200
	var mu sync.Mutex
	var counts []int
	threads := map[string]int{}
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			for range n {
				v, err := threadrunner.Run(testkit.Context(t), r, func(t *aio.Task) (string, error) {
					return in.Eval(t, "list [incr ::n] [tid] [string repeat ab 3]")
				})
				f := strings.Fields(v)
				if err != nil || len(f) != 3 || f[2] != "ababab" {
					t.Errorf("Eval() = %q, %v; want a count, a thread and ababab", v, err)
					return
				}
				c, _ := strconv.Atoi(f[0])
				mu.Lock()
				counts = append(counts, c)
				threads[f[1]]++
				mu.Unlock()
			}
		})
	}
	wg.Wait() // testkit.Check's watchdog fails a hang with every stack
	slices.Sort(counts)
	for i, c := range counts {
		if c != i+1 {
			t.Fatalf("the counts seen are not 1..%d exactly: the %dth is %d", g*n, i+1, c)
		}
	}
	if want := strconv.Itoa(r.Loop().ThreadID()); len(threads) != 1 || threads[want] != g*n {
		t.Errorf("calls ran on threads %v; want all %d on the loop's thread %s", threads, g*n, want)
	}
	if got := eval(t, r, in, "set ::n"); got != strconv.Itoa(g*n) {
		t.Errorf("::n = %s; want %d", got, g*n)
	}
}

// TestAfter checks that after timers fire in order, none before its time,
// on the loop's thread, with no task waiting for them.
func TestAfter(t *testing.T) {
	testkit.Check(t)
	r, in := newInterp(t)
	type firing struct {
		name   string
		after  time.Duration // since the script was started
		thread string
	}
	var fired []firing // loop-owned: only commands touch it
	done := make(chan bool)
	var start time.Time
	command(t, r, in, "fired", func(_ *aio.Task, args []string) (string, error) {
		fired = append(fired, firing{args[0], time.Since(start), strconv.Itoa(syscall.Gettid())})
		if args[0] == "40" {
			close(done)
		}
		return "", nil
	})
	start = time.Now()
	eval(t, r, in, "after 30 {fired 30}; after 10 {fired 10}; after 40 {fired 40}; after 0 {fired 0}; after 20 {fired 20}")
	testkit.Await(t, done, "the last timer")
	var got []string
	_, err := threadrunner.Run(testkit.Context(t), r, func(*aio.Task) (int, error) {
		loop := strconv.Itoa(r.Loop().ThreadID())
		for _, f := range fired {
			got = append(got, f.name)
			d, _ := strconv.Atoi(f.name)
			if f.after < time.Duration(d)*time.Millisecond {
				t.Errorf("after %s fired %v after the script began; want not before %dms", f.name, f.after, d)
			}
			if f.thread != loop {
				t.Errorf("after %s fired on thread %s; want the loop's %s", f.name, f.thread, loop)
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"0", "10", "20", "30", "40"}; !slices.Equal(got, want) {
		t.Errorf("timers fired in the order %v; want %v", got, want)
	}
}

// lines returns a Go command that sends its argument on a channel.
func lines() (tcl.CommandFunc, <-chan string) {
	ch := make(chan string, 16)
	return func(_ *aio.Task, args []string) (string, error) {
		ch <- strings.Join(args, " ")
		return "", nil
	}, ch
}

// receive returns the next n values from ch, failing t after testkit.Timeout.
func receive(t *testing.T, ch <-chan string, n int) []string {
	t.Helper()
	var got []string
	for range n {
		got = append(got, testkit.Await(t, ch, fmt.Sprintf("the handler's line %d (after %q)", len(got)+1, got)))
	}
	return got
}

// readLines is a Tcl handler that reports each line of channel f with the
// command got, and EOF when it ends.
const readLines = `proc readLines {f} {
	while {[gets $f line] >= 0} { got $line }
	if {[eof $f]} { close $f; got EOF }
}`

// TestFileEventPipe checks that a fileevent on a pipe fires when Go writes
// to it, with no task waiting for it: the loop waits for the descriptor.
func TestFileEventPipe(t *testing.T) {
	testkit.Check(t)
	pr, pw := testPipe(t)
	r, in := newInterp(t)
	got, ch := lines()
	command(t, r, in, "got", got)
	eval(t, r, in, readLines)
	eval(t, r, in, fmt.Sprintf(`set f [open /dev/fd/%d {RDONLY NONBLOCK}]
		fconfigure $f -blocking 0
		fileevent $f readable [list readLines $f]`, pr.Fd()))
	fmt.Fprintln(pw, "hello")
	if s := receive(t, ch, 1); s[0] != "hello" {
		t.Errorf("the handler got %q; want hello", s)
	}
	fmt.Fprintln(pw, "world")
	pw.Close()
	if s := receive(t, ch, 2); !slices.Equal(s, []string{"world", "EOF"}) {
		t.Errorf("the handler got %q; want world, EOF", s)
	}
}

// TestFileEventSocket checks a Tcl server socket: its accept handler and
// its connection's fileevent fire as a Go client connects and writes.
func TestFileEventSocket(t *testing.T) {
	testkit.Check(t)
	r, in := newInterp(t)
	got, ch := lines()
	command(t, r, in, "got", got)
	eval(t, r, in, readLines)
	port := eval(t, r, in, `proc accept {c addr port} {
			fconfigure $c -blocking 0 -buffering line
			fileevent $c readable [list readLines $c]
			got accepted
		}
		set ::server [socket -server accept -myaddr 127.0.0.1 0]
		lindex [fconfigure $::server -sockname] 2`)
	conn, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	if s := receive(t, ch, 1); s[0] != "accepted" {
		t.Errorf("the server got %q; want accepted", s)
	}
	fmt.Fprint(conn, "one\ntwo\n")
	conn.Close()
	if s := receive(t, ch, 3); !slices.Equal(s, []string{"one", "two", "EOF"}) {
		t.Errorf("the connection's handler got %q; want one, two, EOF", s)
	}
	eval(t, r, in, "close $::server")
}

// TestVwait checks vwait inside a Run: ended by a timer, by a fileevent on
// a pipe Go writes to meanwhile, and refused when nothing could end it.
func TestVwait(t *testing.T) {
	testkit.Check(t)
	pr, pw := testPipe(t)
	r, in := newInterp(t)
	if got := eval(t, r, in, "after 20 {set ::done ok}; vwait ::done; set ::done"); got != "ok" {
		t.Errorf("vwait for a timer: %q; want ok", got)
	}

	// The handler is set in the same script as the vwait, so that nothing
	// else can run it first; the after bounds the vwait if it never does.
	go fmt.Fprintln(pw, "from Go") // whenever: before the script, or while the loop's thread blocks in its vwait
	script := fmt.Sprintf(`set p [open /dev/fd/%d {RDONLY NONBLOCK}]
		fileevent $p readable {set ::line [gets $p]}
		set timeout [after %d {set ::line "timed out"}]
		vwait ::line
		after cancel $timeout
		close $p
		set ::line`, pr.Fd(), testkit.Timeout.Milliseconds())
	if got := eval(t, r, in, script); got != "from Go" {
		t.Errorf("vwait for a fileevent: %q; want %q", got, "from Go")
	}

	_, err := threadrunner.Run(testkit.Context(t), r, func(t *aio.Task) (string, error) { return in.Eval(t, "vwait ::never") })
	var te *tcl.Error
	if !errors.As(err, &te) || !strings.Contains(te.Msg, "would wait forever") {
		t.Errorf("vwait with nothing to wait for: %v; want a Tcl error: would wait forever", err)
	}
}

// TestCommands checks Go commands: arguments and result, an error as a Tcl
// error, a nested Eval, and the task they get.
func TestCommands(t *testing.T) {
	testkit.Check(t)
	r, in := newInterp(t)
	command(t, r, in, "join3", func(_ *aio.Task, args []string) (string, error) { return strings.Join(args, "+"), nil })
	command(t, r, in, "fail", func(*aio.Task, []string) (string, error) { return "", errors.New("no luck") })
	command(t, r, in, "nested", func(t *aio.Task, args []string) (string, error) { return in.Eval(t, "expr {2 + 2}") })
	command(t, r, in, "ctx", func(t *aio.Task, args []string) (string, error) { return fmt.Sprint(t.Context().Err()), nil })
	for _, tt := range []struct{ give, want string }{
		{"join3 a {b c} d", "a+b c+d"},
		{"catch fail msg; set msg", "no luck"},
		{"nested", "4"},
		{"ctx", "<nil>"},
		{"after 0 {set ::x [ctx]}; vwait ::x; set ::x", "<nil>"},
	} {
		if got := eval(t, r, in, tt.give); got != tt.want {
			t.Errorf("Eval(%q) = %q; want %q", tt.give, got, tt.want)
		}
	}
	_, err := threadrunner.Run(testkit.Context(t), r, func(t *aio.Task) (string, error) { return in.Eval(t, "fail") })
	var te *tcl.Error
	if !errors.As(err, &te) || te.Msg != "no luck" || !strings.Contains(te.Info, `"fail"`) {
		t.Errorf("Eval(fail) = %#v; want a *tcl.Error with the message and errorInfo", err)
	}
}

// TestCommandPanics checks that a Go command's panic, an await inside one
// included (NoAwait), unwinds Tcl cleanly and reaches the caller as an
// *aio.PanicError; the interpreter serves on.
func TestCommandPanics(t *testing.T) {
	testkit.Check(t)
	r, in := newInterp(t)
	command(t, r, in, "boom", func(*aio.Task, []string) (string, error) { panic("boom") })
	command(t, r, in, "await", func(t *aio.Task, _ []string) (string, error) {
		return "", aio.Sleep(t, time.Millisecond)
	})
	for _, tt := range []struct{ give, want string }{
		{"boom", "boom"},
		{"catch {await} msg; set msg", "inside NoAwait"},
	} {
		p := func() (p any) {
			defer func() { p = recover() }()
			threadrunner.Run(testkit.Context(t), r, func(t *aio.Task) (string, error) { return in.Eval(t, tt.give) })
			return nil
		}()
		var pe *aio.PanicError
		if err, ok := p.(error); !ok || !errors.As(err, &pe) || !strings.Contains(fmt.Sprint(pe.Value), tt.want) {
			t.Errorf("Eval(%q) panicked with %v; want an *aio.PanicError about %q", tt.give, p, tt.want)
		}
	}
	if got := eval(t, r, in, "expr {1 + 1}"); got != "2" {
		t.Errorf("Eval() after the panics = %q; want 2", got)
	}
}

// TestBadInput checks that misuse gets an error: a nil interpreter or
// task, another loop's task, an interpreter whose resource has exited, an
// unpinned loop.
func TestBadInput(t *testing.T) {
	testkit.Check(t)
	r, in := newInterp(t)
	other := threadrunner.New()
	defer other.Close()
	ctx := testkit.Context(t)
	if _, err := threadrunner.Run(ctx, other, func(t *aio.Task) (string, error) { return in.Eval(t, "expr 1") }); err == nil || !strings.Contains(err.Error(), "lives on") {
		t.Errorf("Eval from another loop's task = %v; want an error", err)
	}
	var nilInterp *tcl.Interp
	if _, err := threadrunner.Run(ctx, r, func(t *aio.Task) (string, error) { return nilInterp.Eval(t, "expr 1") }); err == nil {
		t.Error("Eval on a nil *Interp succeeded; want an error")
	}
	if _, err := in.Eval(nil, "expr 1"); err == nil {
		t.Error("Eval with a nil task succeeded; want an error")
	}
	if _, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) { return 0, in.Command(t, "x", nil) }); err == nil {
		t.Error("Command with a nil func succeeded; want an error")
	}
	var gone *tcl.Interp
	if err := threadrunner.With(ctx, r, tcl.Interpreter(), func(in *tcl.Interp) error { gone = in; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := threadrunner.Run(ctx, r, func(t *aio.Task) (string, error) { return gone.Eval(t, "expr 1") }); !errors.Is(err, tcl.ErrDeleted) {
		t.Errorf("Eval after Exit = %v; want ErrDeleted", err)
	}
	unpinned := threadrunner.New(aio.Unpinned())
	defer unpinned.Close()
	if err := threadrunner.With(ctx, unpinned, tcl.Interpreter(), func(*tcl.Interp) error { return nil }); err == nil || !strings.Contains(err.Error(), "pinned") {
		t.Errorf("Interpreter on an unpinned loop = %v; want an error", err)
	}
}

// testPipe returns a pipe that is closed after the runners the test makes
// next (cleanups run last registered first): a handler of Tcl's then never
// sees it closed.
func testPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		w.Close()
	})
	return r, w
}

// TestCloseWithPendingEvents checks that a runner closes at once, leaving
// no goroutine, while its interpreter has a long timer and a file handler
// pending, and that the Tcl events of two interpreters on one loop work.
func TestCloseWithPendingEvents(t *testing.T) {
	testkit.Check(t)
	pr, _ := testPipe(t)
	r, in := newInterp(t)
	in2, err := threadrunner.Keep(testkit.Context(t), r, tcl.Interpreter())
	if err != nil {
		t.Fatal(err)
	}
	command(t, r, in, "unexpected", func(_ *aio.Task, args []string) (string, error) {
		t.Errorf("%s fired; want it pending until Close", args[0])
		return "", nil
	})
	eval(t, r, in, fmt.Sprintf(`after 60000 {unexpected timer}
		set ::p [open /dev/fd/%d {RDONLY NONBLOCK}]
		fileevent $::p readable {unexpected fileevent}`, pr.Fd()))
	v, err := threadrunner.Run(testkit.Context(t), r, func(t *aio.Task) (string, error) {
		return in2.Eval(t, "after 5 {set ::y 2}; vwait ::y; set ::y")
	})
	if v != "2" || err != nil {
		t.Errorf("the second interpreter's vwait = %q, %v; want 2", v, err)
	}
	// The cleanup closes r, with the timer and the file handler pending.
}
