// Package js runs JavaScript on a threadrunner loop with goja, so that
// synchronous Go code on any goroutine can use a JavaScript library, async
// functions and all: the seed's ThreadRunner, for the async libraries Go
// actually meets.
//
//	runner := threadrunner.New()
//	defer runner.Close()
//	vm, err := threadrunner.Keep(ctx, runner, js.New(js.Script("lib.js", `
//		async function title(url) {
//			const page = await (await fetch(url)).text();
//			return page.match(/<title>(.*)<\/title>/)[1];
//		}
//	`)))
//	title, err := js.Call[string](ctx, vm.Global("title"), url) // from any goroutine
//
// # Threading model
//
// A [VM] is made on a loop, when the resource [New] returns is entered, and
// only code on that loop touches it: goja runtimes are single-threaded. Go
// code elsewhere reaches it through [Call] and [Eval], which run the
// JavaScript in a callback of the loop and wait; tasks use [Do] and
// [Await]. Every entry into JavaScript from a task runs under aio.NoAwait:
// an await by that task inside the JavaScript (in a Go function that the
// JavaScript called) panics with a clear message instead of suspending the
// task in the middle of the runtime, which would corrupt it.
//
// # Promises and futures
//
// A promise that JavaScript returns to Go is awaited: [Call] waits for it,
// [Await] suspends a task until it settles, and neither holds a coroutine
// of the loop meanwhile. A Go function becomes an async JavaScript function
// with [Async]: each call starts a task whose outcome settles the promise,
// and blocking work in it goes to aio.ToThread. A Go future becomes a
// promise with [Promise]. setTimeout, setInterval, clearTimeout,
// clearInterval and queueMicrotask run on the loop's own timers and
// callbacks.
//
// # Cancellation
//
// A call's context reaches the JavaScript: when it ends while JavaScript
// runs, the runtime is interrupted (a loop that never yields included) and
// the call returns the context's error, wrapped in an *[Error] with the
// JavaScript stack where it stopped; the VM stays usable. When it ends while
// a promise is pending, the call returns at once, the promise goes on, and
// the Go async functions that the call's JavaScript started are cancelled.
//
// # Errors and panics
//
// A JavaScript exception or rejection reaches Go as an *[Error] with the
// JavaScript name, message and stack; a Go error that crossed into
// JavaScript and back is unwrapped again (errors.Is sees it). A panic in Go
// code that JavaScript called reaches the Go caller as a *aio.PanicError,
// and the VM serves on. A promise rejected with no handler, and an error
// thrown by a timer callback, are reported to the loop's logger (or to
// [OnRejection]); console.* writes to the logger too.
//
// # Iterators and resources
//
// A JavaScript async iterator is an aio.Seq through [Iter], for
// threadrunner.Iter: breaking out of the range loop calls its return method
// and awaits it. A JavaScript object with an async close (Symbol.asyncDispose,
// or a close method) is an aio.Resource through [Resource], for
// threadrunner.With, Open and Keep. Go code holds JavaScript values it
// cannot look inside as a [Handle].
//
// # fetch
//
// A VM has a minimal fetch over net/http (method, headers, a string body and
// an AbortSignal; a Response with status, headers, text, json, and a body
// that is an async iterable of string chunks), run through aio.ToThread, so
// that no request blocks the loop.
//
// # Shutdown
//
// A VM closes when its resource is exited: with the runner's Close for one
// kept with threadrunner.Keep, after the resources kept later (a session's
// dispose still runs JavaScript, timers and Go async functions included).
// Then Go callers waiting for its promises get [ErrClosed], its timers are
// dropped, its Go async functions and fetches are cancelled and awaited, and
// every later use fails with ErrClosed.
package js
