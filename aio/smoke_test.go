package aio_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
)

func TestSmoke(t *testing.T) {
	l := aio.Start()
	v, err := aio.Call(context.Background(), l, func(t *aio.Task) (int, error) {
		f := aio.Go(t, func(t *aio.Task) (int, error) {
			if err := aio.Sleep(t, time.Millisecond); err != nil {
				return 0, err
			}
			return syscall.Gettid(), nil
		})
		return aio.Await(t, f)
	})
	t.Log(v, err, l.ThreadID())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = aio.Call(ctx, l, func(t *aio.Task) (int, error) {
		return 0, aio.Sleep(t, time.Hour)
	})
	t.Log(err, errors.Is(err, context.DeadlineExceeded))
	func() {
		defer func() { t.Log("recovered", recover() != nil) }()
		aio.Call(context.Background(), l, func(t *aio.Task) (int, error) { panic("boom") })
	}()
	f := aio.Spawn(context.Background(), l, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Hour) })
	t.Log(l.Close(), l.Stats())
	_, err = f.Wait(context.Background())
	t.Log(err, errors.Is(err, aio.ErrClosed), errors.Is(err, context.Canceled))
}
