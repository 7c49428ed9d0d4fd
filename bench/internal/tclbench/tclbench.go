// Package tclbench measures Tcl 8.6 (examples/tcl/tcl) three ways, for the
// report of cmd/tcl and the benchmarks of tcl_test.go: a script evaluated
// through threadrunner.Run from another goroutine, through a naive loop (a
// goroutine locked to its thread serving a channel), and directly by the
// goroutine that owns the interpreter; and the CPU an idle interpreter with
// a pending after 60000 costs. Where libtcl8.6 cannot be loaded, New
// returns an error that is tcl.ErrUnavailable.
package tclbench

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/examples/tcl/tcl"
)

// Script is what every system evaluates: a short command, so that the
// measure is the way to the interpreter more than Tcl's own work.
const Script = "incr ::n"

// A System evaluates scripts in one Tcl interpreter of its own.
type System interface {
	Eval(script string) (string, error) // from any goroutine (Direct: only the one that made it)
	Close() error
}

// Names of the systems, in report order.
const (
	ViaRun = "tr-run"       // threadrunner.Run on a pinned loop, from another goroutine
	Naive  = "naive-locked" // a goroutine locked to its thread serving a request channel
	Direct = "direct"       // the owning goroutine itself, locked: no hop at all
)

// Systems lists the systems' names.
func Systems() []string { return []string{ViaRun, Naive, Direct} }

// New makes the named system. A Direct system must be used, and closed, by
// the calling goroutine only, which New locks to its thread (Close unlocks
// it).
func New(name string) (System, error) {
	if err := tcl.Load(); err != nil {
		return nil, err
	}
	switch name {
	case ViaRun:
		return newRunner()
	case Naive:
		return newNaive()
	case Direct:
		runtime.LockOSThread()
		d, err := tcl.NewDirect()
		if err != nil {
			runtime.UnlockOSThread()
			return nil, err
		}
		return direct{d}, nil
	}
	return nil, fmt.Errorf("tclbench: no system %q", name)
}

// runner is an interpreter kept on a threadrunner.Runner.
type runner struct {
	r  *threadrunner.Runner
	in *tcl.Interp
}

func newRunner() (*runner, error) {
	r := threadrunner.New()
	in, err := threadrunner.Keep(context.Background(), r, tcl.Interpreter())
	if err != nil {
		return nil, errors.Join(err, r.Close())
	}
	return &runner{r: r, in: in}, nil
}

func (s *runner) Eval(script string) (string, error) {
	return threadrunner.Run(context.Background(), s.r, func(t *aio.Task) (string, error) { return s.in.Eval(t, script) })
}

func (s *runner) Close() error { return s.r.Close() }

// naive is the way Go code owns a thread today: a goroutine locked to its
// OS thread owns the interpreter and serves a channel; each caller waits
// for its reply on a channel of its own.
type naive struct {
	reqs chan naiveReq
	done chan error
}

type naiveReq struct {
	script string
	reply  chan naiveReply
}

type naiveReply struct {
	v   string
	err error
}

func newNaive() (*naive, error) {
	s := &naive{reqs: make(chan naiveReq), done: make(chan error, 1)}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		d, err := tcl.NewDirect()
		started <- err
		if err != nil {
			return
		}
		for req := range s.reqs {
			v, err := d.Eval(req.script)
			req.reply <- naiveReply{v, err}
		}
		s.done <- d.Close()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return s, nil
}

func (s *naive) Eval(script string) (string, error) {
	reply := make(chan naiveReply, 1)
	s.reqs <- naiveReq{script, reply}
	r := <-reply
	return r.v, r.err
}

func (s *naive) Close() error {
	close(s.reqs)
	return <-s.done
}

// direct is the interpreter called by the goroutine that made it.
type direct struct{ d *tcl.Direct }

func (s direct) Eval(script string) (string, error) { return s.d.Eval(script) }

func (s direct) Close() error {
	defer runtime.UnlockOSThread()
	return s.d.Close()
}
