package aio_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestPrimitiveUsedByTwoLoops(t *testing.T) {
	testkit.Check(t)
	a := startLoop(t, aio.Name("loop-a"))
	b := startLoop(t, aio.Name("loop-b"))

	q := aio.NewQueue[int](0)
	var ev aio.Event
	sem := aio.NewSemaphore(1)
	// The first loop to use each binds it; Call's return orders that
	// before the second loop's use.
	call(t, a, func(t *aio.Task) (int, error) {
		q.TryPut(1)
		ev.Set()
		return 0, errors.Join(q.Put(t, 2), ev.Wait(t), sem.Acquire(t))
	})
	tests := []struct {
		op  string
		use func(t *aio.Task)
	}{
		{"Queue.Put", func(t *aio.Task) { q.Put(t, 3) }},
		{"Queue.Get", func(t *aio.Task) { q.Get(t) }},
		{"Event.Wait", func(t *aio.Task) { ev.Wait(t) }},
		{"Semaphore.Acquire", func(t *aio.Task) { sem.Acquire(t) }},
	}
	for _, tt := range tests {
		got := call(t, b, func(t *aio.Task) (any, error) { return testkit.RecoverPanic(func() { tt.use(t) }), nil })
		want := fmt.Sprintf("aio: %s used from loop-b, but it belongs to loop-a", tt.op)
		if got != want {
			t.Errorf("%s from a second loop panicked with %v; want %q", tt.op, got, want)
		}
	}
}
