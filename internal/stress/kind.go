package stress

import (
	"context"
	"errors"
	"fmt"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// A Kind is how one call ended.
type Kind int

// The kinds of outcome. Every call ends in exactly one.
const (
	Value      Kind = iota // its own value, and the right one (or no error, for a call without a value)
	OwnError               // its own error, unchanged (errors.Is)
	Panic                  // its own panic, as the library delivers it
	CtxError               // its context's error (errors.Is): a deadline or a Cancel
	Closed                 // aio.ErrClosed (errors.Is), once Close has begun
	Disallowed             // anything else: a bug
	NumKinds               // the number of kinds
)

var kindNames = [NumKinds]string{"value", "own error", "panic", "ctx error", "ErrClosed", "disallowed"}

// String names the kind as reports print it.
func (k Kind) String() string { return kindNames[k] }

// An outcome is how one call ended, and what it was allowed to end with.
type outcome struct {
	err   error  // what the call returned
	p     any    // what it panicked with, or nil
	own   error  // the error it may end with on purpose (a leaf of its error), or nil
	ctx   error  // its context's error, if its context may end, or nil
	panic any    // the value it must panic with, unless it ends with ErrClosed; or nil
	raw   bool   // the panic goes on as raised (a With body's), not as a *aio.PanicError
	bad   string // what the call itself found wrong, or ""
}

// classify returns the kind of o and, for a disallowed one, why. closing
// says whether Close had begun when the call ended. An error may hold nothing
// but aio.ErrClosed, context.Canceled (of a task that Close cancelled), o.own
// and o.ctx.
func classify(o outcome, closing bool) (Kind, string) {
	switch {
	case o.bad != "":
		return Disallowed, o.bad
	case o.p != nil:
		if o.panic != nil {
			pe, isPE := o.p.(*aio.PanicError)
			if o.raw && o.p == o.panic || !o.raw && isPE && pe.Value == o.panic {
				return Panic, ""
			}
		}
		if pe, ok := o.p.(*aio.PanicError); ok {
			return Disallowed, fmt.Sprintf("unexpected panic %v\n%s", pe.Value, pe.Stack)
		}
		return Disallowed, fmt.Sprintf("unexpected panic %v", o.p)
	case o.err == nil && o.panic != nil:
		return Disallowed, "returned without error and without panicking; want its panic"
	case o.err == nil:
		return Value, ""
	}
	allowed := []error{aio.ErrClosed, context.Canceled}
	if o.own != nil {
		allowed = append(allowed, o.own)
	}
	if o.ctx != nil {
		allowed = append(allowed, o.ctx)
	}
	if leaf := testkit.StrayLeaf(o.err, allowed...); leaf != nil {
		return Disallowed, fmt.Sprintf("error %v holds %v, which is none of %v", o.err, leaf, allowed)
	}
	switch {
	case errors.Is(o.err, aio.ErrClosed):
		if !closing {
			return Disallowed, fmt.Sprintf("ErrClosed before Close: %v", o.err)
		}
		return Closed, ""
	case o.ctx != nil && errors.Is(o.err, o.ctx):
		return CtxError, ""
	case o.own != nil && errors.Is(o.err, o.own):
		return OwnError, ""
	}
	return Disallowed, fmt.Sprintf("unexpected error %v", o.err)
}

// value returns why a call that returned v, err is wrong, or "": v must be
// want if err is nil, and want or zero otherwise (a task cancelled after it
// computed v).
func value(v, want int64, err error) string {
	if v == want || err != nil && v == 0 {
		return ""
	}
	return fmt.Sprintf("returned %d, %v; want %d", v, err, want)
}

// An opError is the error one call's task or body returns on purpose.
type opError struct{ id int64 }

func (e *opError) Error() string { return fmt.Sprintf("call %d failed", e.id) }

// A panicValue is what one call's task, body or generator panics with.
type panicValue struct{ id int64 }
