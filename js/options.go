package js

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/internal/errs"
)

// An Option configures a [VM]: pass it to [New].
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	name        string
	logger      *slog.Logger                           // nil: the loop's
	onRejection func(*Error)                           // nil: log it
	client      *http.Client                           // nil: a client of the VM's own, whose idle connections Exit closes
	setup       []func(vm *VM, rt *goja.Runtime) error // scripts and Setup functions, in order
	grace       time.Duration
}

func newConfig(opts []Option) (config, error) {
	c := config{name: "js", grace: time.Second}
	var bad []error
	for _, o := range opts {
		if o == nil {
			bad = append(bad, errs.Invalid("js: nil Option"))
			continue
		}
		bad = append(bad, o.apply(&c))
	}
	return c, errors.Join(bad...)
}

// Script runs src, named name in stack traces, when the VM is made, after
// the built-ins (console, timers, fetch) are installed and in the order the
// options are given. If it throws, entering the VM fails with its *[Error].
func Script(name, src string) Option {
	return optionFunc(func(c *config) error {
		c.setup = append(c.setup, func(vm *VM, rt *goja.Runtime) error {
			prg, err := goja.Compile(name, src, false)
			if err != nil {
				return err
			}
			_, err = rt.RunProgram(prg)
			return err
		})
		return nil
	})
}

// Setup calls fn on the loop when the VM is made, in the order the options
// are given (scripts included), to define globals with rt.Set, Go functions
// among them (see [Async]). If fn returns an error, entering the VM fails
// with it. fn must not await: it runs inside the VM, like a Go function
// called from JavaScript.
func Setup(fn func(vm *VM, rt *goja.Runtime) error) Option {
	return optionFunc(func(c *config) error {
		if fn == nil {
			return errs.Invalid("js: Setup with a nil function")
		}
		c.setup = append(c.setup, fn)
		return nil
	})
}

// Logger sets where console.* writes and where unhandled rejections and
// uncaught errors of timer callbacks are reported (unless [OnRejection] is
// given). The default is the loop's logger ([aio.Logger]).
func Logger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return errs.Invalid("js: nil Logger")
		}
		c.logger = l
		return nil
	})
}

// OnRejection sets the function that hears of every promise rejected with no
// handler once the JavaScript that rejected it has run (its microtasks
// included), and of every error thrown by a timer or microtask callback that
// nobody catches. fn runs on the loop and must not block or await. The
// default logs them, with their stack, to the logger at level Error.
func OnRejection(fn func(err *Error)) Option {
	return optionFunc(func(c *config) error {
		if fn == nil {
			return errs.Invalid("js: OnRejection with a nil function")
		}
		c.onRejection = fn
		return nil
	})
}

// HTTPClient sets the client fetch sends its requests with. By default each
// VM has a client of its own (a clone of http.DefaultTransport), whose idle
// connections its Exit closes; a client given here is the caller's to close.
func HTTPClient(client *http.Client) Option {
	return optionFunc(func(c *config) error {
		if client == nil {
			return errs.Invalid("js: nil HTTPClient")
		}
		c.client = client
		return nil
	})
}

// Name names the VM in its log records (default "js").
func Name(name string) Option {
	return optionFunc(func(c *config) error {
		c.name = name
		return nil
	})
}

// Grace bounds the cleanup that runs after a cancellation (default one
// second): an iterator's return and a resource's dispose when the task
// consuming them was cancelled, and the VM's Exit waiting for its Go async
// functions when the runner closes underneath it. Cleanup that has not
// ended by then is interrupted. d <= 0 means no wait.
func Grace(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		c.grace = max(0, d)
		return nil
	})
}
