package threadrunner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/threadrunner/threadrunner/aio"
)

// An IterOption tunes [Iter].
type IterOption func(*iterConfig)

type iterConfig struct {
	batch  int
	buffer int
}

// BatchSize sets how many values at most cross from the loop in one hand-off
// (default 256). Values never wait for a batch to fill: a partial batch is
// handed over whenever the generator awaits, and when it ends.
func BatchSize(n int) IterOption { return func(c *iterConfig) { c.batch = n } }

// Buffer sets how many full batches may wait for the consumer before the
// generator is made to wait (default 4): the bound of back-pressure.
func Buffer(n int) IterOption { return func(c *iterConfig) { c.buffer = n } }

// Iter runs the generator seq on the runner's loop and returns its values as
// an iterator for a range loop in any goroutine (the seed's wrap_iter). Each
// range over the result runs seq anew. Values cross in batches, one thread
// hop per batch, through a bounded buffer, so a fast generator waits for a
// slow consumer.
//
// Breaking out of the range loop, ctx's end and the runner's Close stop the
// generator: its yield returns false, its context is cancelled, its deferred
// cleanup runs on the loop, and the range loop ends only after it has. The
// generator's error comes last, as (zero, err); so does ctx's error if ctx
// ends first, and [aio.ErrClosed] (errors.Is) if the runner closes. If the
// generator panics, the range loop panics with its *aio.PanicError. Ranging
// on the loop's own thread yields (zero, [aio.ErrLoopThread]).
func Iter[T any](ctx context.Context, r *Runner, seq aio.Seq[T], opts ...IterOption) iter.Seq2[T, error] {
	var c iterConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return func(yield func(T, error) bool) {
		var zero T
		l, err := r.start()
		if err == nil && ctx == nil {
			err = fmt.Errorf("%w: Iter: nil context", aio.ErrInvalid)
		}
		if err != nil {
			yield(zero, err)
			return
		}
		if l.InLoop() {
			yield(zero, aio.ErrLoopThread)
			return
		}
		s := aio.OpenStream(ctx, l, seq, c.batch, c.buffer)
		defer s.Close()
		for {
			batch, err := s.Next(ctx)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					yield(zero, err)
				}
				return
			}
			for _, v := range batch {
				if !yield(v, nil) {
					return
				}
			}
		}
	}
}
