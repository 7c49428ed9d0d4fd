package aio_test

import (
	"slices"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// count returns a generator of 0..n-1 that awaits Sleep(0) every every
// items (never if every is 0), then returns err.
func count(n, every int, err error) aio.Seq[int] {
	return func(t *aio.Task, yield func(int) bool) error {
		for i := range n {
			if every > 0 && i%every == 0 {
				if err := aio.Sleep(t, 0); err != nil {
					return err
				}
			}
			if !yield(i) {
				return nil
			}
		}
		return err
	}
}

// ints returns 0..n-1.
func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestCollect(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	type result struct {
		vs  []int
		err error
	}
	tests := []struct {
		name string
		give aio.Seq[int]
		want result
	}{
		{"SliceSeq", aio.SliceSeq([]int{3, 1, 2}), result{[]int{3, 1, 2}, nil}},
		{"empty", aio.SliceSeq[int](nil), result{nil, nil}},
		{"awaits", count(5, 2, nil), result{ints(5), nil}},
		{"error last", count(3, 1, testkit.ErrGen), result{ints(3), testkit.ErrGen}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, l, func(t *aio.Task) (result, error) {
				vs, err := aio.Collect(t, tt.give)
				return result{vs, err}, nil
			})
			if !slices.Equal(got.vs, tt.want.vs) || got.err != tt.want.err {
				t.Errorf("Collect() = %v, %v; want %v, %v", got.vs, got.err, tt.want.vs, tt.want.err)
			}
		})
	}
}

func TestSliceSeqStopsEarly(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	got := call(t, l, func(t *aio.Task) ([]int, error) {
		var vs []int
		err := aio.SliceSeq(ints(10))(t, func(v int) bool {
			vs = append(vs, v)
			return v < 2
		})
		return vs, err
	})
	if want := []int{0, 1, 2}; !slices.Equal(got, want) {
		t.Errorf("SliceSeq stopped after %v; want %v", got, want)
	}
}

func TestCollectBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	runInvalidCases(t, l, []invalidCase{
		{name: "Collect nil Seq", inTask: func(t *aio.Task) error {
			_, err := aio.Collect[int](t, nil)
			return err
		}, want: "nil Seq"},
	})
}
