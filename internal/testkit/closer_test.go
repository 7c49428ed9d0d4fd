package testkit_test

import (
	"io"
	"testing"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

// closer is an io.Closer that counts its calls and returns err.
type closer struct {
	calls int
	err   error
}

func (c *closer) Close() error {
	c.calls++
	return c.err
}

func TestCloseAtEnd(t *testing.T) {
	for _, give := range []error{nil, io.ErrClosedPipe} {
		ft := &fakeT{name: "closing"}
		c := &closer{err: give}
		testkit.CloseAtEnd(ft, c)
		if c.calls != 0 {
			t.Fatalf("CloseAtEnd closed at once; want it closed when the test ends")
		}
		ft.cleanup()
		if c.calls != 1 {
			t.Errorf("Close ran %d times at the end; want 1", c.calls)
		}
		if got := len(ft.errors); give == nil && got != 0 || give != nil && (got != 1 || !contains(ft.errors[0], give.Error())) {
			t.Errorf("CloseAtEnd with Close() = %v reported %q; want the error reported, if any", give, ft.errors)
		}
	}
}
