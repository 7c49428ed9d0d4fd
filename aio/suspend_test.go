package aio_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// TestNoAwait checks that an await inside NoAwait panics with a message
// naming the rule, instead of suspending the task in the middle of foreign
// code; that the task goes on awaiting once NoAwait has returned, nested
// calls included; and that fn's own panic goes on.
func TestNoAwait(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	awaits := map[string]func(t *aio.Task){
		"Sleep":    func(t *aio.Task) { aio.Sleep(t, time.Millisecond) },
		"Sleep(0)": func(t *aio.Task) { aio.Sleep(t, 0) },
		"Await":    func(t *aio.Task) { aio.Await(t, aio.Go(t, func(*aio.Task) (int, error) { return 1, nil })) },
		"ToThread": func(t *aio.Task) {
			aio.ToThread(t, func(context.Context) (int, error) { return 1, nil })
		},
		"Recv":    func(t *aio.Task) { aio.Recv(t, make(chan int)) },
		"Timeout": func(t *aio.Task) { aio.Timeout(t, time.Second, func(*aio.Task) (int, error) { return 1, nil }) },
	}
	for name, await := range awaits {
		t.Run(name, func(t *testing.T) {
			got := call(t, l, func(t *aio.Task) (string, error) {
				var p any
				aio.NoAwait(t, func() {
					aio.NoAwait(t, func() {}) // nesting is fine
					p = testkit.RecoverPanic(func() { await(t) })
				})
				if err := aio.Sleep(t, 0); err != nil {
					return "", err
				}
				return fmt.Sprint(p), nil
			})
			if !strings.Contains(got, "inside NoAwait") || !strings.Contains(got, "must not await") {
				t.Errorf("await inside NoAwait panicked with %q; want the NoAwait rule", got)
			}
		})
	}
	p := testkit.RecoverPanic(func() {
		call(t, l, func(t *aio.Task) (int, error) {
			aio.NoAwait(t, func() { panic("foreign boom") })
			return 0, nil
		})
	})
	if pe := panicError(t, p); pe.Value != "foreign boom" {
		t.Errorf("NoAwait's fn panic reached the waiter as %v; want it", pe.Value)
	}
	checkLoopServes(t, l)
}
