// Command tour walks through "Running async code from sync in Python
// asyncio", the article threadrunner ports, step by step, in Go: a transient
// loop, a long-lived loop, a long-lived loop-bound session, doing something
// else meanwhile, calls from many goroutines, resources kept for the runner's
// life, and an async iterable read from sync code.
//
// By default it fetches a page from an embedded HTTP server on 127.0.0.1, so
// it needs no network:
//
//	go run ./examples/tour
//	go run ./examples/tour -v                      # every request and every line
//	go run ./examples/tour -url https://example.com/ # a real site instead
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.URL, "url", "", "fetch this URL instead of the embedded server's page")
	flag.BoolVar(&cfg.Verbose, "v", false, "verbose: print every request and every line")
	flag.IntVar(&cfg.Goroutines, "goroutines", 8, "step 5: goroutines calling at once")
	flag.IntVar(&cfg.Calls, "calls", 4, "step 5: calls per goroutine")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}
