package aio

// A Seq is an async generator: a function that runs as (or in) a task and
// hands values to yield one at a time, suspending in awaits in between as it
// likes. yield returns false when the consumer wants no more: the generator
// must then return (running its deferred cleanup). Its error is the
// sequence's error, reported after the last value.
//
// On the loop, a task consumes a Seq by calling it, or with [Collect]; from
// other goroutines, threadrunner.Iter ranges over one.
type Seq[T any] func(t *Task, yield func(T) bool) error

// Collect runs seq in t and returns every value it yields, and its error.
func Collect[T any](t *Task, seq Seq[T]) ([]T, error) {
	t.mustRun("Collect")
	if seq == nil {
		return nil, invalid("Collect: nil Seq")
	}
	var vs []T
	err := seq(t, func(v T) bool {
		vs = append(vs, v)
		return true
	})
	return vs, err
}

// SliceSeq returns a Seq that yields the elements of s in order.
func SliceSeq[T any](s []T) Seq[T] {
	return func(t *Task, yield func(T) bool) error {
		for _, v := range s {
			if !yield(v) {
				return nil
			}
		}
		return nil
	}
}
