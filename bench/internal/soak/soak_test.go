package soak_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/bench/internal/soak"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestSoakShort(t *testing.T) {
	testkit.Check(t)
	res, err := soak.Run(soak.Config{Duration: 2 * time.Second, Seed: 1})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	var out bytes.Buffer
	res.Print(&out)
	if !res.OK() {
		t.Errorf("soak failed:\n%s", out.String())
	}
	for _, k := range []soak.Kind{soak.Value, soak.OwnError, soak.Panic, soak.CtxError} {
		if res.Count(k) == 0 {
			t.Errorf("Count(%v) = 0; want > 0: the mix should produce every kind\n%s", k, out.String())
		}
	}
	for _, want := range []string{"calls served:", "Run latency: p50", "after Close", "verdict: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Print() output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSoakRejectsZeroDuration(t *testing.T) {
	if _, err := soak.Run(soak.Config{}); err == nil {
		t.Errorf("Run(zero Config) = nil error; want one")
	}
}

func TestClassify(t *testing.T) {
	own := fmt.Errorf("wrapped: %w", soak.ErrOwn)
	closed := fmt.Errorf("%w: %w", aio.ErrClosed, context.Canceled)
	pv := soak.PanicValue(7)
	tests := []struct {
		name    string
		err     error
		p       any
		ok      bool
		own     bool
		panic   bool
		ctx     bool
		closing bool
		want    soak.Kind
	}{
		{name: "right value", ok: true, want: soak.Value},
		{name: "wrong value", want: soak.Disallowed},
		{name: "own error allowed", err: own, own: true, want: soak.OwnError},
		{name: "own error not allowed", err: own, want: soak.Disallowed},
		{name: "ErrClosed while closing", err: closed, closing: true, want: soak.Closed},
		{name: "ErrClosed before Close", err: closed, want: soak.Disallowed},
		{name: "deadline allowed", err: context.DeadlineExceeded, ctx: true, want: soak.CtxError},
		{name: "cancel allowed", err: context.Canceled, ctx: true, want: soak.CtxError},
		{name: "deadline not allowed", err: context.DeadlineExceeded, want: soak.Disallowed},
		{name: "the task's panic", p: &aio.PanicError{Value: pv}, panic: true, want: soak.Panic},
		{name: "another panic value", p: &aio.PanicError{Value: soak.PanicValue(8)}, panic: true, want: soak.Disallowed},
		{name: "a raw panic", p: pv, panic: true, want: soak.Disallowed},
		{name: "a panic not allowed", p: &aio.PanicError{Value: pv}, want: soak.Disallowed},
		{name: "another error", err: errors.New("other"), own: true, ctx: true, want: soak.Disallowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := soak.Classify(tt.err, tt.p, tt.ok, soak.Allowed(tt.own, tt.panic, tt.ctx), tt.closing, pv)
			if got != tt.want {
				t.Errorf("classify() = %v (%s); want %v", got, why, tt.want)
			}
			if (got == soak.Disallowed) != (why != "") {
				t.Errorf("classify() = %v with reason %q; want a reason exactly for disallowed", got, why)
			}
		})
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 1000; i++ {
		ds = append(ds, time.Duration(i)*time.Microsecond)
	}
	got, maxD := soak.Percentiles(ds, 0.5, 0.99, 0)
	tests := []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"p50", got[0], 500 * time.Microsecond},
		{"p99", got[1], 990 * time.Microsecond},
		{"p0", got[2], time.Microsecond},
	}
	for _, tt := range tests {
		// A bucket spans 1/16 of its value: the percentile is its lower bound.
		if tt.got > tt.want+time.Microsecond || tt.got < tt.want-tt.want/16-time.Microsecond {
			t.Errorf("%s = %v; want within 1/16 below %v", tt.name, tt.got, tt.want)
		}
	}
	if maxD != time.Millisecond {
		t.Errorf("max = %v; want 1ms", maxD)
	}
	if got, _ := soak.Percentiles(nil, 0.5); got[0] != 0 {
		t.Errorf("p50 of nothing = %v; want 0", got[0])
	}
}
