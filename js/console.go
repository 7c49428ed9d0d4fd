package js

import (
	"log/slog"
	"strings"

	"github.com/dop251/goja"
)

// consoleLevels maps console's methods to log levels.
var consoleLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"trace": slog.LevelDebug,
	"log":   slog.LevelInfo,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// installConsole defines console, whose methods write one log record each
// to the VM's logger: the arguments, formatted and joined by spaces, as the
// message, and the VM's name as attribute "vm".
func (vm *VM) installConsole() {
	console := vm.rt.NewObject()
	for name, level := range consoleLevels {
		console.Set(name, func(c goja.FunctionCall) goja.Value {
			ctx := vm.entryContext()
			if vm.log.Enabled(ctx, level) {
				vm.log.Log(ctx, level, vm.format(c.Arguments), "vm", vm.cfg.name)
			}
			return goja.Undefined()
		})
	}
	vm.rt.Set("console", console)
}

// format renders console arguments: strings as they are, errors by their
// stack, other objects as JSON where they can be, anything else by String.
func (vm *VM) format(args []goja.Value) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vm.show(a))
	}
	return b.String()
}

func (vm *VM) show(v goja.Value) string {
	obj, ok := v.(*goja.Object)
	if !ok {
		return v.String()
	}
	if _, isFunc := goja.AssertFunction(v); isFunc {
		return v.String()
	}
	if stack := obj.Get("stack"); stack != nil && !goja.IsUndefined(stack) {
		return stack.String()
	}
	if s, err := vm.builtins.stringify(goja.Undefined(), v); err == nil && !goja.IsUndefined(s) {
		return s.String()
	}
	return v.String()
}
