package aio_test

import (
	"context"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
)

func benchCall(b *testing.B, opts ...aio.Option) {
	l := aio.Start(opts...)
	defer l.Close()
	ctx := context.Background()
	fn := func(t *aio.Task) (int, error) { return 1, nil }
	aio.Call(ctx, l, fn)
	b.ReportAllocs()
	for b.Loop() {
		aio.Call(ctx, l, fn)
	}
}
func BenchmarkCallPinned(b *testing.B)        { benchCall(b) }
func BenchmarkCallPinnedSpin1ms(b *testing.B) { benchCall(b, aio.Spin(time.Millisecond)) }
func BenchmarkCallUnpinned(b *testing.B)      { benchCall(b, aio.Unpinned()) }
func BenchmarkCallNoSpin(b *testing.B)        { benchCall(b, aio.Spin(0)) }

func BenchmarkSpawnThroughput(b *testing.B) {
	l := aio.Start()
	defer l.Close()
	ctx := context.Background()
	fn := func(t *aio.Task) (int, error) { return 1, nil }
	b.ReportAllocs()
	var f *aio.Future[int]
	for b.Loop() {
		f = aio.Spawn(ctx, l, fn)
	}
	f.Wait(ctx)
}

func BenchmarkGoAwaitOnLoop(b *testing.B) {
	l := aio.Start()
	defer l.Close()
	ctx := context.Background()
	fn := func(t *aio.Task) (int, error) { return 1, nil }
	b.ReportAllocs()
	aio.Call(ctx, l, func(t *aio.Task) (int, error) {
		for b.Loop() {
			aio.Await(t, aio.Go(t, fn))
		}
		return 0, nil
	})
}
