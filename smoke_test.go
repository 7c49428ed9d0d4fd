package threadrunner_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
)

type session struct{ n int }

type sessRes struct{}

func (sessRes) Enter(t *aio.Task) (*session, error) { return &session{}, nil }
func (sessRes) Exit(t *aio.Task, err error) error   { fmt.Println("exit", err); return nil }

func TestSmokeRunner(t *testing.T) {
	r := threadrunner.New()
	v, err := threadrunner.Run(context.Background(), r, func(t *aio.Task) (int, error) { return 8, nil })
	t.Log(v, err)
	s, err := threadrunner.Keep(context.Background(), r, sessRes{})
	t.Log(s, err)
	err = threadrunner.With(context.Background(), r, sessRes{}, func(s *session) error { return nil })
	t.Log(err)
	n := 0
	for v, err := range threadrunner.Iter(context.Background(), r, aio.SliceSeq([]int{0, 1, 2, 3})) {
		t.Log(v, err)
		n++
	}
	gen := func(t *aio.Task, yield func(int) bool) error {
		for i := range 100000 {
			if !yield(i) {
				return nil
			}
		}
		return nil
	}
	n = 0
	for v, err := range threadrunner.Iter(context.Background(), r, gen) {
		if err != nil {
			t.Fatal(err)
		}
		if v != n {
			t.Fatal(v, n)
		}
		n++
		if n == 50000 {
			break
		}
	}
	t.Log(n)
	t.Log(r.Close())
	_, err = threadrunner.Run(context.Background(), r, func(t *aio.Task) (int, error) { return 8, nil })
	t.Log(err)
}
