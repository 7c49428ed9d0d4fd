package peers

import (
	"errors"
	"fmt"
	"sync"

	"github.com/dop251/goja"
)

// A GojaDirect is goja with no event loop and no thread: the calling
// goroutine runs the JavaScript itself, under a mutex (a goja runtime is not
// safe for concurrent use), and reads a settled promise's result at once.
// goInc resolves its promise before it returns. It is the floor the loops'
// JavaScript cases are measured against.
type GojaDirect struct {
	mu                    sync.Mutex // guards vm and everything in it
	vm                    *goja.Runtime
	closed                bool
	tick, viaGo, naturals goja.Callable
}

// NewGojaDirect returns a runtime running jsScript.
func NewGojaDirect() (*GojaDirect, error) {
	vm := goja.New()
	s := &GojaDirect{vm: vm}
	err := vm.Set("goInc", func(c goja.FunctionCall) goja.Value {
		p, resolve, _ := vm.NewPromise()
		resolve(c.Argument(0).ToInteger() + 1)
		return vm.ToValue(p)
	})
	if err != nil {
		return nil, err
	}
	if _, err := vm.RunString(jsScript); err != nil {
		return nil, err
	}
	for name, dst := range map[string]*goja.Callable{"tick": &s.tick, "viaGo": &s.viaGo, "naturals": &s.naturals} {
		fn, ok := goja.AssertFunction(vm.Get(name))
		if !ok {
			return nil, fmt.Errorf("peers: goja: %s is not a function", name)
		}
		*dst = fn
	}
	return s, nil
}

// result reads the settled promise a call returned; the runtime ran its
// jobs before the call returned.
func result(v goja.Value, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	p, ok := v.Export().(*goja.Promise)
	if !ok || p.State() != goja.PromiseStateFulfilled {
		return 0, errors.New("peers: goja: the call did not fulfil its promise at once")
	}
	return int(p.Result().ToInteger()), nil
}

// Call implements [System]: tick, called by the caller.
func (s *GojaDirect) Call() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	return result(s.tick(goja.Undefined()))
}

// AwaitGo implements [AwaitGoer].
func (s *GojaDirect) AwaitGo(x int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	return result(s.viaGo(goja.Undefined(), s.vm.ToValue(x)))
}

// IterJS implements [JSIterator]: next, called by the caller, its promise
// read at once.
func (s *GojaDirect) IterJS(more func() bool) (n, sum int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, 0, ErrClosed
	}
	itv, err := s.naturals(goja.Undefined())
	if err != nil {
		return 0, 0, err
	}
	it := itv.ToObject(s.vm)
	next, _ := goja.AssertFunction(it.Get("next"))
	for more() {
		r, err := next(it)
		if err != nil {
			return n, sum, err
		}
		p, ok := r.Export().(*goja.Promise)
		if !ok || p.State() != goja.PromiseStateFulfilled {
			return n, sum, errors.New("peers: goja: next did not fulfil its promise at once")
		}
		n, sum = n+1, sum+int(p.Result().ToObject(s.vm).Get("value").ToInteger())
	}
	if ret, ok := goja.AssertFunction(it.Get("return")); ok {
		_, err = ret(it)
	}
	return n, sum, err
}

// Close makes later calls fail.
func (s *GojaDirect) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
