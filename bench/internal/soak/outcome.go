package soak

import (
	"context"
	"errors"
	"fmt"

	"github.com/threadrunner/threadrunner/aio"
)

// A Kind is how one call ended.
type Kind int

// The kinds of outcome.
const (
	Value      Kind = iota // the task's value, and it was the right one
	OwnError               // the task's own error, unchanged
	Panic                  // the task's panic, re-panicked in the caller as *aio.PanicError
	CtxError               // the caller's context ended (deadline or cancel)
	Closed                 // aio.ErrClosed, once Close has begun
	Disallowed             // anything else: a bug
	numKinds
)

var kindNames = [numKinds]string{"value", "own error", "panic", "ctx error", "ErrClosed", "disallowed"}

// String names the kind as the report prints it.
func (k Kind) String() string { return kindNames[k] }

// errOwn is the error the soak's tasks return on purpose.
var errOwn = errors.New("soak: the task's own error")

// A panicValue is what the soak's tasks panic with.
type panicValue struct{ id uint64 }

// allowed describes which outcomes an operation may have besides a value.
type allowed struct {
	own, panic, ctx bool
}

// classify returns the kind of an outcome and, for a disallowed one, why:
// err as returned, p as recovered, ok whether the value was the right one,
// a what the operation may end with, closing whether Close had begun, and
// wantPanic the value a panicking task panicked with.
func classify(err error, p any, ok bool, a allowed, closing bool, wantPanic panicValue) (Kind, string) {
	switch {
	case p != nil:
		pe, isPE := p.(*aio.PanicError)
		if a.panic && isPE && pe.Value == wantPanic {
			return Panic, ""
		}
		return Disallowed, fmt.Sprintf("unexpected panic %v", p)
	case err == nil && ok:
		return Value, ""
	case err == nil:
		return Disallowed, "wrong value"
	case errors.Is(err, aio.ErrClosed):
		if closing {
			return Closed, ""
		}
		return Disallowed, fmt.Sprintf("ErrClosed before Close: %v", err)
	case a.own && errors.Is(err, errOwn):
		return OwnError, ""
	case a.ctx && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)):
		return CtxError, ""
	}
	return Disallowed, fmt.Sprintf("unexpected error %v", err)
}
