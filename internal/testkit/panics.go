package testkit

// RecoverPanic calls fn and returns what it panicked with, or nil if it
// returned. (Since Go 1.21 a panic(nil) is recovered as a
// *runtime.PanicNilError, unless GODEBUG=panicnil=1.)
func RecoverPanic(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

// As returns p as a T, failing t (Fatalf) if it is not one. It is for checking
// what a call panicked with: pe := testkit.As[*aio.PanicError](t, p).
func As[T any](t TB, p any) T {
	t.Helper()
	v, ok := p.(T)
	if !ok {
		t.Fatalf("recovered %T %v; want a %T", p, p, v)
	}
	return v
}

// Goexits calls fn on a goroutine of its own, waits for it, and reports
// whether fn ended by runtime.Goexit (what t.FailNow calls) rather than by
// returning or panicking; if fn panicked, p is the value it panicked with.
// Under GODEBUG=panicnil=1 a panic(nil) looks like a Goexit.
func Goexits(fn func()) (goexited bool, p any) {
	type ending struct {
		returned bool
		p        any
	}
	ended := make(chan ending, 1)
	go func() {
		var e ending
		defer func() { ended <- e }()      // runs on a Goexit too
		defer func() { e.p = recover() }() // nil on a Goexit
		fn()
		e.returned = true
	}()
	e := <-ended
	return !e.returned && e.p == nil, e.p
}
