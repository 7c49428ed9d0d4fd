// Package bench holds threadrunner's benchmarks against its peers: a
// goroutine locked to its OS thread serving a channel (the naive way), the same
// unlocked, golang.design/x/mainthread, goja_nodejs's event loop, and
// threadrunner pinned and unpinned. The systems under test live in package
// peers; the benchmarks are in this package's tests (go test -bench .); the
// side-by-side report is cmd/report and the soak test is cmd/soak.
//
// bench is a module of its own so that the core module stays free of
// dependencies.
package bench
