// Command js walks through "Running async code from sync in Python asyncio"
// again, with a JavaScript client library in the place of aiohttp: client.js,
// run by goja on a threadrunner loop, used from synchronous Go on many
// goroutines. Then it serves HTTP with handlers that render their pages
// through a pool of JavaScript runtimes, one per loop.
//
// It fetches from an embedded HTTP server on 127.0.0.1, so it needs no
// network:
//
//	cd examples/js && go run .
//	go run . -goroutines 16 -calls 8 -loops 4
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
	flag.IntVar(&cfg.Goroutines, "goroutines", 8, "goroutines calling at once (step 3), and HTTP clients (step 5)")
	flag.IntVar(&cfg.Calls, "calls", 4, "calls per goroutine (step 3) and requests per client (step 5)")
	flag.IntVar(&cfg.Loops, "loops", 2, "loops of the rendering pool (step 5)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "js:", err)
		os.Exit(1)
	}
}
