package threadrunner_test

import (
	"context"
	"testing"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
)

func benchRun(b *testing.B, opts ...aio.Option) {
	r := threadrunner.New(opts...)
	defer r.Close()
	ctx := context.Background()
	fn := func(t *aio.Task) (int, error) { return 1, nil }
	threadrunner.Run(ctx, r, fn)
	b.ReportAllocs()
	for b.Loop() {
		threadrunner.Run(ctx, r, fn)
	}
}
func BenchmarkRunPinned(b *testing.B)   { benchRun(b) }
func BenchmarkRunUnpinned(b *testing.B) { benchRun(b, aio.Unpinned()) }
func BenchmarkRunPinned8(b *testing.B) {
	r := threadrunner.New()
	defer r.Close()
	ctx := context.Background()
	fn := func(t *aio.Task) (int, error) { return 1, nil }
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			threadrunner.Run(ctx, r, fn)
		}
	})
}
func BenchmarkIter(b *testing.B) {
	r := threadrunner.New()
	defer r.Close()
	gen := func(t *aio.Task, yield func(int) bool) error {
		for i := 0; ; i++ {
			if !yield(i) {
				return nil
			}
		}
	}
	n := 0
	for range threadrunner.Iter(context.Background(), r, gen) {
		n++
		if n == b.N {
			break
		}
	}
}
