package stress

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
)

func TestClassify(t *testing.T) {
	own := &opError{7}
	wrapped := fmt.Errorf("wrapped: %w", own)
	closed := fmt.Errorf("%w: %w", aio.ErrClosed, context.Canceled)
	pv, other := &panicValue{7}, &panicValue{8}
	tests := []struct {
		name    string
		give    outcome
		closing bool
		want    Kind
	}{
		{name: "right value", give: outcome{}, want: Value},
		{name: "wrong value", give: outcome{bad: value(3, 4, nil)}, want: Disallowed},
		{name: "zero value with an error", give: outcome{err: closed, bad: value(0, 4, closed)}, closing: true, want: Closed},
		{name: "own error allowed", give: outcome{err: wrapped, own: own}, want: OwnError},
		{name: "own error not allowed", give: outcome{err: wrapped}, want: Disallowed},
		{name: "ErrClosed while closing", give: outcome{err: closed}, closing: true, want: Closed},
		{name: "ErrClosed before Close", give: outcome{err: closed}, want: Disallowed},
		{name: "deadline allowed", give: outcome{err: context.DeadlineExceeded, ctx: context.DeadlineExceeded}, want: CtxError},
		{name: "cancel allowed", give: outcome{err: context.Canceled, ctx: context.Canceled}, want: CtxError},
		{name: "deadline not allowed", give: outcome{err: context.DeadlineExceeded}, want: Disallowed},
		{name: "a cancellation where a deadline is allowed", give: outcome{err: context.Canceled, ctx: context.DeadlineExceeded}, want: Disallowed},
		{name: "the task's panic", give: outcome{p: &aio.PanicError{Value: pv}, panic: pv}, want: Panic},
		{name: "another panic value", give: outcome{p: &aio.PanicError{Value: other}, panic: pv}, want: Disallowed},
		{name: "a raw panic", give: outcome{p: pv, panic: pv}, want: Disallowed},
		{name: "a body's raw panic", give: outcome{p: pv, panic: pv, raw: true}, want: Panic},
		{name: "a body's panic wrapped", give: outcome{p: &aio.PanicError{Value: pv}, panic: pv, raw: true}, want: Disallowed},
		{name: "a panic not allowed", give: outcome{p: &aio.PanicError{Value: pv}}, want: Disallowed},
		{name: "no panic where one is due", give: outcome{panic: pv}, want: Disallowed},
		{name: "ErrClosed where a panic is due", give: outcome{err: closed, panic: pv}, closing: true, want: Closed},
		{name: "another error", give: outcome{err: errors.New("other"), own: own, ctx: context.Canceled}, want: Disallowed},
		{name: "own error joined with a stray one", give: outcome{err: errors.Join(own, errors.New("stray")), own: own}, want: Disallowed},
		{name: "found wrong by the call", give: outcome{bad: "body ran twice"}, want: Disallowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := classify(tt.give, tt.closing)
			if got != tt.want {
				t.Errorf("classify() = %v (%s); want %v", got, why, tt.want)
			}
			if (got == Disallowed) != (why != "") {
				t.Errorf("classify() = %v with reason %q; want a reason exactly for disallowed", got, why)
			}
		})
	}
}
