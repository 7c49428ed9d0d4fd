package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

// The example is package main, so its tests are in package main too.

func TestFanOut(t *testing.T) {
	tests := []struct {
		give int
		want int // sum of squares, worked out by hand
	}{
		{give: 1, want: 0},
		{give: 4, want: 0 + 1 + 4 + 9},
		{give: 1000, want: 332833500},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.give), func(t *testing.T) {
			testkit.Check(t)
			got, err := fanOut(context.Background(), tt.give, -1)
			if err != nil {
				t.Fatalf("fanOut(%d) = %v; want nil", tt.give, err)
			}
			if got.Done != tt.give || got.Sum != tt.want || got.Cancelled != 0 {
				t.Errorf("fanOut(%d) = %+v; want %d done, sum %d, none cancelled", tt.give, got, tt.give, tt.want)
			}
		})
	}
}

func TestFanOutFirstErrorCancels(t *testing.T) {
	testkit.Check(t)
	const n, fail = 1000, 500
	got, err := fanOut(context.Background(), n, fail)
	if !errors.Is(err, errBadInput) || !strings.Contains(err.Error(), "task 500") {
		t.Errorf("fanOut() = %v; want task 500's errBadInput", err)
	}
	// The tasks started after the failing one never finish their sleep.
	if got.Cancelled == 0 || got.Done+got.Cancelled != n-1 {
		t.Errorf("fanOut() = %+v; want some cancelled, and %d done or cancelled", got, n-1)
	}
}

func TestRun(t *testing.T) {
	testkit.Check(t)
	var out bytes.Buffer
	if err := run(context.Background(), &out, 1000); err != nil {
		t.Fatalf("run() = %v; want nil\noutput:\n%s", err, &out)
	}
	for _, want := range []string{
		"1000 tasks done in",
		"sum of squares 332833500",
		"Group.Wait -> task 500: bad input",
		"were cancelled in it, 1 failed: 1000 in all",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("run() output does not mention %q; output:\n%s", want, &out)
		}
	}
}
