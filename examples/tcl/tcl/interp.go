package tcl

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/threadrunner/threadrunner/aio"
)

// ErrDeleted is what an [Interp]'s methods return once its resource has
// exited. It may be wrapped; test with errors.Is.
var ErrDeleted = errors.New("tcl: interpreter deleted")

// An Interp is a Tcl interpreter that lives on one loop's thread, made by
// the Enter of [Interpreter]'s resource and deleted by its Exit. Its methods
// must be called by a task of that loop (from any goroutine, through
// threadrunner.Run and the like), and return an error otherwise; no lock is
// needed, since the loop runs one task step at a time. It must not be used
// after its resource has exited ([ErrDeleted]).
type Interp struct {
	// Set by Enter; p is cleared by Exit. Loop-owned.
	loop *aio.Loop
	p    unsafe.Pointer // the C Tcl_Interp
	h    *host          // the loop thread's notifier
}

// Interpreter returns a resource whose Enter creates a Tcl interpreter on
// the loop's thread (and, the first time, loads and starts Tcl there), and
// whose Exit deletes it there. Keep it for the runner's life
// (threadrunner.Keep), or for one block (threadrunner.With, aio.With).
//
// Enter fails with [ErrUnavailable] where libtcl8.6 cannot be loaded, and
// with an error on an unpinned loop, whose thread may change between task
// steps. Several interpreters may live on one loop; they share the thread's
// Tcl events.
//
// Each call returns a new resource, for one interpreter: entering it again
// before it has exited fails.
func Interpreter() aio.Resource[*Interp] { return &resource{} }

// A resource is one interpreter's life; it is loop-owned.
type resource struct {
	in *Interp // from Enter until Exit
}

func (r *resource) Enter(t *aio.Task) (*Interp, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	if r.in != nil {
		return nil, errors.New("tcl: an Interpreter resource entered twice; call Interpreter for each interpreter")
	}
	if !t.Loop().Pinned() {
		return nil, fmt.Errorf("tcl: an interpreter needs a pinned loop; %v is unpinned", t.Loop())
	}
	in, err := newInterp(t)
	r.in = in
	return in, err
}

func (r *resource) Exit(t *aio.Task, _ error) error {
	in := r.in
	r.in = nil
	if in == nil || in.p == nil {
		return nil
	}
	aio.NoAwait(t, func() {
		defer in.h.enter(t)()
		deleteInterp(in.p)
	})
	in.p = nil
	in.h.release()
	in.h.repanic()
	return nil
}

// A CommandFunc is a Go function called as a Tcl command: args are the
// command's words after its name; its result becomes the command's result,
// and an error makes the command raise a Tcl error with the error's
// message.
//
// It runs on the loop's thread, inside the task whose step made Tcl run the
// command (an [Interp.Eval]'s caller, or the task that services Tcl's
// events for a timer or a file event), which it gets as t, and inside
// [aio.NoAwait]: it may use t for what does not await (t.Context(),
// aio.Go, aio.Spawn, a nested [Interp.Eval]), and any await panics. A panic
// is caught before it reaches Tcl's C frames: the command raises a Tcl
// error, and once Tcl has unwound, the panic goes on as an *aio.PanicError
// in the task that called into Tcl. It must not call runtime.Goexit (as
// t.FailNow does), which would unwind through Tcl's C frames.
type CommandFunc func(t *aio.Task, args []string) (string, error)

// Eval evaluates script at global level and returns its result, or an
// *[Error] with Tcl's message and errorInfo. It blocks the loop while Tcl
// runs (a script's vwait or update included), and runs inside
// [aio.NoAwait]; the end of t's context does not interrupt it. A Go command's panic comes back as an *aio.PanicError
// panicking in t. Eval must be called by t, a task of in's loop; it may be
// called from a [CommandFunc] (Tcl is re-entrant).
func (in *Interp) Eval(t *aio.Task, script string) (string, error) {
	if err := in.check(t, "Eval"); err != nil {
		return "", err
	}
	var res string
	var err error
	aio.NoAwait(t, func() {
		defer in.h.enter(t)()
		res, err = eval(in.p, script)
	})
	in.h.repanic()
	return res, err
}

// Command registers fn as the Tcl command name (replacing any command of
// that name) for the interpreter's life. Command must be called by t, a
// task of in's loop.
func (in *Interp) Command(t *aio.Task, name string, fn CommandFunc) error {
	if err := in.check(t, "Command"); err != nil {
		return err
	}
	if fn == nil {
		return errors.New("tcl: Command " + name + ": nil CommandFunc")
	}
	aio.NoAwait(t, func() {
		defer in.h.enter(t)()
		addCommand(in, name, fn)
	})
	return nil
}

// check returns why t may not use in for op, if it may not.
func (in *Interp) check(t *aio.Task, op string) error {
	switch {
	case in == nil:
		return errors.New("tcl: " + op + " on a nil *Interp")
	case t == nil:
		return errors.New("tcl: " + op + " with a nil *aio.Task")
	case t.Loop() != in.loop:
		return fmt.Errorf("tcl: %s from a task of %v; the interpreter lives on %v", op, t.Loop(), in.loop)
	case in.p == nil:
		return fmt.Errorf("tcl: %s: %w", op, ErrDeleted)
	}
	return nil
}
