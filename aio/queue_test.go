package aio_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestQueueFIFO(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	for _, size := range []int{0, 1, 3} {
		got := call(t, l, func(t *aio.Task) ([]int, error) {
			q := aio.NewQueue[int](size)
			producer := aio.Go(t, func(t *aio.Task) (int, error) {
				for i := range 20 {
					if err := q.Put(t, i); err != nil {
						return i, err
					}
				}
				q.Close()
				return 20, nil
			})
			var got []int
			for {
				v, err := q.Get(t)
				if errors.Is(err, aio.ErrQueueClosed) {
					break
				}
				if err != nil {
					return got, err
				}
				got = append(got, v)
			}
			_, err := aio.Await(t, producer)
			return got, err
		})
		want := make([]int, 20)
		for i := range want {
			want[i] = i
		}
		if !slices.Equal(got, want) {
			t.Errorf("NewQueue(%d): got %v; want %v", size, got, want)
		}
	}
}

func TestQueueBoundedPutSuspends(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	got := call(t, l, func(t *aio.Task) ([]string, error) {
		var log []string
		q := aio.NewQueue[int](2)
		putter := aio.Go(t, func(t *aio.Task) (int, error) {
			for i := range 3 {
				if err := q.Put(t, i); err != nil {
					return 0, err
				}
				log = append(log, "put")
			}
			return 0, nil
		})
		aio.Sleep(t, 0) // the putter fills the queue and waits
		log = append(log, fmt.Sprint("len ", q.Len()))
		if _, err := q.Get(t); err != nil {
			return log, err
		}
		log = append(log, "got")
		_, err := aio.Await(t, putter)
		return log, err
	})
	if want := []string{"put", "put", "len 2", "got", "put"}; !slices.Equal(got, want) {
		t.Errorf("order = %q; want %q", got, want)
	}
}

func TestQueueTry(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	type result struct {
		puts []bool
		gets []int
		oks  []bool
		len  int
	}
	got := call(t, l, func(t *aio.Task) (result, error) {
		var r result
		q := aio.NewQueue[int](2)
		for i := range 3 {
			r.puts = append(r.puts, q.TryPut(i))
		}
		r.len = q.Len()
		for range 3 {
			v, ok := q.TryGet()
			r.gets, r.oks = append(r.gets, v), append(r.oks, ok)
		}
		return r, nil
	})
	if !slices.Equal(got.puts, []bool{true, true, false}) || got.len != 2 {
		t.Errorf("TryPut x3 on NewQueue(2) = %v, Len() = %d; want [true true false], 2", got.puts, got.len)
	}
	if !slices.Equal(got.gets, []int{0, 1, 0}) || !slices.Equal(got.oks, []bool{true, true, false}) {
		t.Errorf("TryGet x3 = %v, %v; want [0 1 0], [true true false]", got.gets, got.oks)
	}
}

func TestQueueClose(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	type result struct {
		waitingGet, waitingPut error
		left                   []int
		afterGet, afterPut     error
		tryPut                 bool
	}
	got := call(t, l, func(t *aio.Task) (result, error) {
		var r result
		empty := aio.NewQueue[int](1)
		full := aio.NewQueue[int](1)
		full.TryPut(1)
		getter := aio.Go(t, func(t *aio.Task) (int, error) {
			_, err := empty.Get(t)
			r.waitingGet = err
			return 0, nil
		})
		putter := aio.Go(t, func(t *aio.Task) (int, error) {
			r.waitingPut = full.Put(t, 2)
			return 0, nil
		})
		aio.Sleep(t, 0) // both wait
		empty.Close()
		full.Close()
		full.Close() // twice: nothing more
		aio.Await(t, getter)
		aio.Await(t, putter)
		for {
			v, err := full.Get(t)
			if err != nil {
				r.afterGet = err
				break
			}
			r.left = append(r.left, v)
		}
		r.afterPut = full.Put(t, 3)
		r.tryPut = full.TryPut(4)
		return r, nil
	})
	if !errors.Is(got.waitingGet, aio.ErrQueueClosed) || !errors.Is(got.waitingPut, aio.ErrQueueClosed) {
		t.Errorf("waiting Get, Put at Close = %v, %v; want ErrQueueClosed", got.waitingGet, got.waitingPut)
	}
	if !slices.Equal(got.left, []int{1}) || !errors.Is(got.afterGet, aio.ErrQueueClosed) {
		t.Errorf("Get after Close = %v then %v; want the item left, [1], then ErrQueueClosed", got.left, got.afterGet)
	}
	if !errors.Is(got.afterPut, aio.ErrQueueClosed) || got.tryPut {
		t.Errorf("Put, TryPut after Close = %v, %v; want ErrQueueClosed, false", got.afterPut, got.tryPut)
	}
}

func TestQueueCancelledWaiterPassesWakeOn(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// Two getters wait; one item comes while the first is being
	// cancelled. The item must reach the second getter, not be stranded.
	got := call(t, l, func(t *aio.Task) ([2]error, error) {
		var errs [2]error
		var v int
		q := aio.NewQueue[int](0)
		first := aio.Go(t, func(t *aio.Task) (int, error) {
			_, errs[0] = q.Get(t)
			return 0, nil
		})
		second := aio.Go(t, func(t *aio.Task) (int, error) {
			v, errs[1] = q.Get(t)
			return 0, nil
		})
		aio.Sleep(t, 0) // both wait, first in line
		first.Cancel()  // lands at the next turn of the loop
		q.TryPut(5)     // wakes the first
		aio.Await(t, first)
		aio.Await(t, second)
		if v != 5 {
			return errs, testkit.ErrTask
		}
		return errs, nil
	})
	if !errors.Is(got[0], context.Canceled) || got[1] != nil {
		t.Errorf("Get() of the cancelled and the other getter = %v, %v; want context.Canceled, nil", got[0], got[1])
	}
}

// FuzzQueue drives a Queue with a random mix of operations, from the task
// that owns it and from tasks that block in Put and Get and may be
// cancelled, and checks it against a model: what comes out (taken items,
// then what is left) is exactly what went in, in order, and the queue never
// holds more than its size.
func FuzzQueue(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 1, 1, 1, 1})
	f.Add([]byte{1, 2, 2, 2, 3, 3, 4, 3, 4, 5, 4})
	f.Add([]byte{0, 3, 3, 4, 0, 2, 4, 5, 5, 4, 1})
	f.Add([]byte{3, 2, 2, 2, 2, 2, 5, 4, 3, 3, 5, 4, 6, 4})
	f.Add([]byte{1, 3, 5, 3, 4, 0, 4, 2, 2, 4, 6, 2, 4, 1})
	f.Add([]byte{2, 0, 6, 0, 1, 3, 2, 4})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 {
			return
		}
		testkit.Check(t)
		l := startLoop(t)
		size := int(ops[0] % 4)
		if err := call(t, l, func(t *aio.Task) (error, error) {
			return checkQueueModel(t, size, ops[1:]), nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// checkQueueModel runs ops on a new queue of the given size in task and
// checks the model of FuzzQueue. It returns the first discrepancy.
func checkQueueModel(task *aio.Task, size int, ops []byte) error {
	q := aio.NewQueue[int](size)
	var (
		in, out []int // items in order of entering and of leaving the queue
		next    int
		closed  bool
		blocked []*aio.Future[int] // tasks that Put or Get, oldest first
	)
	checkLen := func(op byte) error {
		if size > 0 && q.Len() > size {
			return fmt.Errorf("after op %d: Len() = %d; want at most %d", op, q.Len(), size)
		}
		if q.Len() != len(in)-len(out) {
			return fmt.Errorf("after op %d: Len() = %d; want %d in - %d out", op, q.Len(), len(in), len(out))
		}
		return nil
	}
	for _, op := range ops {
		switch op % 7 {
		case 0: // TryPut
			next++
			before := q.Len()
			ok := q.TryPut(next)
			if want := !closed && (size == 0 || before < size); ok != want {
				return fmt.Errorf("TryPut(%d) = %v; want %v", next, ok, want)
			}
			if ok {
				in = append(in, next)
			}
		case 1: // TryGet
			before := q.Len()
			v, ok := q.TryGet()
			if ok != (before > 0) {
				return fmt.Errorf("TryGet() ok = %v with Len() %d before", ok, before)
			}
			if ok {
				out = append(out, v)
			}
		case 2: // a task that puts
			next++
			v := next
			blocked = append(blocked, aio.Go(task, func(t *aio.Task) (int, error) {
				err := q.Put(t, v)
				if err == nil {
					in = append(in, v)
				}
				return 0, err
			}))
		case 3: // a task that gets
			blocked = append(blocked, aio.Go(task, func(t *aio.Task) (int, error) {
				v, err := q.Get(t)
				if err == nil {
					out = append(out, v)
				}
				return 0, err
			}))
		case 4: // let the others run
			if err := aio.Sleep(task, 0); err != nil {
				return fmt.Errorf("Sleep(0) = %v", err)
			}
		case 5: // cancel the oldest task still blocked
			for _, f := range blocked {
				if !f.Settled() {
					f.Cancel()
					break
				}
			}
		case 6:
			q.Close()
			closed = true
		}
		if err := checkLen(op % 7); err != nil {
			return err
		}
	}
	// Close, let every task end, and drain what is left.
	q.Close()
	for _, f := range blocked {
		_, err := aio.Await(task, f)
		if err != nil && !errors.Is(err, aio.ErrQueueClosed) && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("a blocked Put or Get = %v; want nil, ErrQueueClosed or context.Canceled", err)
		}
	}
	for {
		v, ok := q.TryGet()
		if !ok {
			break
		}
		out = append(out, v)
	}
	if !slices.Equal(out, in) {
		return fmt.Errorf("items out of the queue %v; want those put in, in order, %v", out, in)
	}
	return nil
}
