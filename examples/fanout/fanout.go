package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/threadrunner/threadrunner/aio"
)

// A tally is what a fan-out gathered. Its fields are loop-owned: every task
// of the group updates them on the loop, one step at a time, so they need no
// lock.
type tally struct {
	Done      int // tasks that finished their work
	Cancelled int // tasks whose sleep was cut short by the group's cancellation
	Sum       int // sum of the squares the finished tasks computed
}

// errBadInput is the failure of the second run's failing task.
var errBadInput = errors.New("bad input")

// fanOut runs n tasks in one group on a new loop. Task i sleeps for 1 to 10
// milliseconds, then computes i*i. If fail >= 0, task fail fails at once
// instead, and the group cancels the others.
func fanOut(ctx context.Context, n, fail int) (tally, error) {
	return aio.Run(ctx, func(t *aio.Task) (tally, error) {
		var tl tally
		g := aio.NewGroup(t)
		for i := range n {
			g.Go(func(t *aio.Task) error {
				if i == fail {
					return fmt.Errorf("task %d: %w", i, errBadInput)
				}
				if err := aio.Sleep(t, time.Duration(1+i%10)*time.Millisecond); err != nil {
					tl.Cancelled++
					return err
				}
				tl.Sum += i * i
				tl.Done++
				return nil
			})
		}
		err := g.Wait()
		return tl, err
	})
}

// run runs the example: a fan-out that succeeds, then one whose first error
// cancels the rest.
func run(ctx context.Context, out io.Writer, n int) error {
	fmt.Fprintf(out, "1. %d tasks on one loop, each sleeping 1-10 ms, then computing i*i\n", n)
	start := time.Now()
	tl, err := fanOut(ctx, n, -1)
	if err != nil {
		return err
	}
	want := sumOfSquares(n)
	fmt.Fprintf(out, "   %d tasks done in %v (the sleeps overlap); sum of squares %d (want %d)\n",
		tl.Done, time.Since(start).Round(time.Millisecond), tl.Sum, want)
	if tl.Done != n || tl.Sum != want {
		return fmt.Errorf("run 1: %d tasks done, sum %d; want %d, %d", tl.Done, tl.Sum, n, want)
	}

	fail := n / 2
	fmt.Fprintf(out, "\n2. The same, but task %d fails at once: the first error cancels the rest\n", fail)
	tl, err = fanOut(ctx, n, fail)
	if !errors.Is(err, errBadInput) {
		return fmt.Errorf("run 2: Group.Wait = %v; want the failing task's error", err)
	}
	fmt.Fprintf(out, "   Group.Wait -> %v\n", err)
	fmt.Fprintf(out, "   %d tasks finished their sleep, %d were cancelled in it, 1 failed: %d in all\n",
		tl.Done, tl.Cancelled, tl.Done+tl.Cancelled+1)
	if tl.Done+tl.Cancelled+1 != n || tl.Cancelled == 0 {
		return fmt.Errorf("run 2: %d done, %d cancelled; want %d in all, some cancelled", tl.Done, tl.Cancelled, n-1)
	}
	return nil
}

// sumOfSquares returns 0² + 1² + ... + (n-1)².
func sumOfSquares(n int) int { return (n - 1) * n * (2*n - 1) / 6 }
