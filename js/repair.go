package js

import (
	"reflect"
	"sync"
	"unsafe"

	"github.com/dop251/goja"
)

// Why this file reaches into goja's internals.
//
// goja, at the version this module pins, leaves its interpreter's frame
// stacks unbalanced when an interrupt lands inside an async function, or a
// Go function that an async function called panics (NoAwait's panic among
// them): asyncRunner.start and generator.next push a call context and a try
// frame, and the panic unwinds past the code that pops them. From then
// on the runtime believes JavaScript is still running below it, so it never
// again drains its promise job queue at the end of a call: every later await
// hangs, and the VM is lost. (A sync function interrupted, the case goja's
// tests cover, is unaffected.) Interrupting `async function f() { for (;;)
// {} }` shows it; so does `async function f() { goFuncThatPanics() }`.
//
// The alternatives were worse: never interrupting async code (a handler
// stuck in a loop would hold the loop forever), or throwing the VM away
// after an interrupt or a panic (the caller's state with it). So after an
// entry that ended that way, when no JavaScript can be running any more,
// repairIdle
// puts the stacks back the way an idle runtime has them, and drops the
// queued jobs, as goja itself does after an interrupt that it unwinds
// properly. It touches only fields whose meaning at rest is plain (empty
// stacks, no program), and checks their types once: with a goja whose
// layout differs, repair reports it cannot work and the VM is closed
// instead of being left to hang (TestRepairLayout fails first).

// repairIdle restores rt to an idle state after an outermost entry that a
// panic, a runtime.Goexit or an interrupt ended, if that left it unbalanced. It reports false if rt needed
// repair and could not be repaired.
func repairIdle(rt *goja.Runtime) bool {
	l, ok := gojaLayout()
	if !ok {
		return false
	}
	r := reflect.ValueOf(rt).Elem()
	vm := field(r, l.vm).Elem()
	calls, tries := field(vm, l.callStack), field(vm, l.tryStack)
	if calls.Len() == 0 && tries.Len() == 0 {
		return true // the interrupt was unwound properly
	}
	for _, i := range []int{l.callStack, l.iterStack, l.refStack, l.tryStack, l.stack} {
		s := field(vm, i)
		clearSlice(s)
		s.SetLen(0)
	}
	field(vm, l.sp).SetInt(0)
	field(vm, l.args).SetInt(0)
	field(vm, l.pc).SetInt(0)
	field(vm, l.sb).SetInt(-1)
	for _, i := range []int{l.prg, l.privEnv, l.newTarget, l.result} {
		f := field(vm, i)
		f.Set(reflect.Zero(f.Type()))
	}
	field(vm, l.stash).Set(field(field(r, l.global), l.globalStash).Addr())
	jobs := field(r, l.jobQueue)
	jobs.Set(reflect.Zero(jobs.Type()))
	return true
}

// layout holds the indexes of the fields repairIdle touches: of Runtime,
// then of its vm, then of its global object holder.
type layout struct {
	vm, global, jobQueue                                     int // of Runtime
	callStack, iterStack, refStack, tryStack, stack          int // of vm
	sp, sb, pc, args, prg, privEnv, newTarget, result, stash int
	globalStash                                              int // of Runtime.global
}

var gojaLayout = sync.OnceValues(func() (layout, bool) {
	var l layout
	rt := reflect.TypeFor[goja.Runtime]()
	find := func(t reflect.Type, name string, kind reflect.Kind, dst *int) bool {
		f, ok := t.FieldByName(name)
		if !ok || f.Type.Kind() != kind || len(f.Index) != 1 {
			return false
		}
		*dst = f.Index[0]
		return true
	}
	vmField, ok := rt.FieldByName("vm")
	if !ok || vmField.Type.Kind() != reflect.Pointer {
		return l, false
	}
	vm := vmField.Type.Elem()
	globalField, ok := rt.FieldByName("global")
	if !ok || globalField.Type.Kind() != reflect.Struct {
		return l, false
	}
	ok = find(rt, "vm", reflect.Pointer, &l.vm) &&
		find(rt, "global", reflect.Struct, &l.global) &&
		find(rt, "jobQueue", reflect.Slice, &l.jobQueue) &&
		find(globalField.Type, "stash", reflect.Struct, &l.globalStash)
	for _, f := range []struct {
		name string
		kind reflect.Kind
		dst  *int
	}{
		{"callStack", reflect.Slice, &l.callStack}, {"iterStack", reflect.Slice, &l.iterStack},
		{"refStack", reflect.Slice, &l.refStack}, {"tryStack", reflect.Slice, &l.tryStack},
		{"stack", reflect.Slice, &l.stack}, {"sp", reflect.Int, &l.sp}, {"sb", reflect.Int, &l.sb},
		{"pc", reflect.Int, &l.pc}, {"args", reflect.Int, &l.args}, {"prg", reflect.Pointer, &l.prg},
		{"privEnv", reflect.Pointer, &l.privEnv}, {"newTarget", reflect.Interface, &l.newTarget},
		{"result", reflect.Interface, &l.result}, {"stash", reflect.Pointer, &l.stash},
	} {
		ok = ok && find(vm, f.name, f.kind, f.dst)
	}
	if ok {
		// vm.stash points at a stash, the type of global.stash.
		stash, _ := vm.FieldByName("stash")
		ok = stash.Type.Elem() == globalField.Type.Field(l.globalStash).Type
	}
	return l, ok
})

// field returns v's i-th field, settable although it is unexported.
func field(v reflect.Value, i int) reflect.Value {
	f := v.Field(i)
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// clearSlice zeroes s's elements up to its capacity, so that the values
// the frames held can be collected.
func clearSlice(s reflect.Value) {
	full := s.Slice3(0, s.Cap(), s.Cap())
	for i := range full.Len() {
		e := full.Index(i)
		e.Set(reflect.Zero(e.Type()))
	}
}
