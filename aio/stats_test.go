package aio_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestStats(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	const n = 20
	gate, open := aio.NewFuture[int](l)
	stepsBefore := l.Stats().Steps
	futures := make([]*aio.Future[int], n)
	for i := range futures {
		futures[i] = aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) {
			v, err := aio.Await(t, gate)
			return v + i, err
		})
	}
	testkit.WaitFor(t, fmt.Sprintf("Stats().Tasks = %d", n), func() bool { return l.Stats().Tasks == n })
	open(100, nil)
	for i, f := range futures {
		if v, err := f.Wait(testkit.Context(t)); v != 100+i || err != nil {
			t.Errorf("task %d: Wait() = %v, %v; want %d, nil", i, v, err, 100+i)
		}
	}
	testkit.WaitFor(t, "Stats().Tasks = 0", func() bool { return l.Stats().Tasks == 0 })
	// Each task ran at least twice: up to its Await, and after it.
	if got := l.Stats().Steps - stepsBefore; got < 2*n {
		t.Errorf("Stats().Steps grew by %d; want at least %d", got, 2*n)
	}
}
