package js

import (
	_ "embed"
	"fmt"
	"sync"

	"github.com/dop251/goja"
)

//go:embed prelude.js
var preludeSrc string

// prelude is prelude.js compiled, once per process; programs can run in any
// number of runtimes.
var prelude = sync.OnceValues(func() (*goja.Program, error) {
	return goja.Compile("prelude.js", preludeSrc, true)
})

// builtins are values of the runtime that Go uses. Loop-owned.
type builtins struct {
	asyncIterator *goja.Symbol
	asyncDispose  *goja.Symbol
	dispose       *goja.Symbol
	stringify     goja.Callable // JSON.stringify
	asyncFromSync goja.Callable // the prelude's: a sync iterator as an async one
}

// install defines the VM's built-ins: console, the timers, and what the
// prelude defines with the Go primitives it is given. It runs on the loop,
// inside the entry that makes the VM.
func (vm *VM) install() error {
	rt := vm.rt
	vm.installConsole()
	vm.installTimers()
	prg, err := prelude()
	if err != nil {
		return err
	}
	fn, err := rt.RunProgram(prg)
	if err != nil {
		return err
	}
	run, _ := goja.AssertFunction(fn)
	primitives := rt.NewObject()
	primitives.Set("reportError", func(v goja.Value) {
		vm.logError("uncaught error in a callback", vm.reason(v))
	})
	primitives.Set("fetch", vm.fetch)
	helpers, err := run(goja.Undefined(), primitives)
	if err != nil {
		return err
	}
	symbol := rt.Get("Symbol").ToObject(rt)
	var ok bool
	b := &vm.builtins
	for _, s := range []struct {
		name string
		dst  **goja.Symbol
	}{{"asyncIterator", &b.asyncIterator}, {"asyncDispose", &b.asyncDispose}, {"dispose", &b.dispose}} {
		if *s.dst, ok = symbol.Get(s.name).(*goja.Symbol); !ok {
			return fmt.Errorf("js: prelude: Symbol.%s is not a symbol", s.name)
		}
	}
	if b.stringify, ok = goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("stringify")); !ok {
		return fmt.Errorf("js: JSON.stringify is not a function")
	}
	if b.asyncFromSync, ok = goja.AssertFunction(helpers.ToObject(rt).Get("asyncFromSync")); !ok {
		return fmt.Errorf("js: prelude: asyncFromSync is not a function")
	}
	return nil
}
