package threadrunner

import (
	"context"
	"errors"
	"io"
	"iter"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/errs"
)

// An IterOption tunes [Iter]: [BatchSize] and [Buffer]. It is the option of
// the stream Iter reads, [aio.StreamOption].
type IterOption = aio.StreamOption

// BatchSize sets how many values at most cross from the loop in one hand-off
// (default 256; n < 1 means the default). Values never wait for a batch to
// fill: a partial batch is handed over whenever the generator awaits, and
// when it ends. It is [aio.BatchSize].
func BatchSize(n int) IterOption { return aio.BatchSize(n) }

// Buffer sets how many full batches may wait for the consumer before the
// generator is made to wait (default 4; n < 1 means the default): the bound
// of back-pressure. It is [aio.Buffer].
func Buffer(n int) IterOption { return aio.Buffer(n) }

// Iter runs the generator seq on the runner's loop and returns its values as
// an iterator for a range loop in any goroutine (the seed's wrap_iter). Each
// range over the result runs seq anew. Values cross in batches, one thread
// hop per batch, through a bounded buffer, so a fast generator waits for a
// slow consumer.
//
// Breaking out of the range loop stops the generator, and is not a
// cancellation: its yield returns false, its context stays live while its
// deferred cleanup runs (and awaits) on the loop, and the range loop ends
// once the generator has returned; a generator busy in some other await
// finishes that first. ctx's end and the runner's Close do cancel it: its
// awaits fail at once, so cleanup that must still await uses [aio.Shield].
// The generator's error comes last, as (zero, err); so does ctx's error if
// ctx ends first, and [aio.ErrClosed] (errors.Is) if the runner closes. If
// the generator panics, the range loop panics with its *aio.PanicError. A
// panic or runtime.Goexit in the range loop's body stops the generator as a
// break does, then goes on. Ranging on the loop's own thread yields (zero,
// [aio.ErrLoopThread]).
func Iter[T any](ctx context.Context, r *Runner, seq aio.Seq[T], opts ...IterOption) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		l, err := r.start()
		if err == nil && ctx == nil {
			err = errs.Invalid("Iter: nil context")
		}
		if err != nil {
			yield(zero, err)
			return
		}
		if l.InLoop() {
			yield(zero, aio.ErrLoopThread)
			return
		}
		s := aio.OpenStream(ctx, l, seq, opts...)
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
