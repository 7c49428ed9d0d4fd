// Command report runs every benchmark case on every system side by side, in
// one process, interleaved in rounds, and prints a markdown table of the
// medians with ratios against the naive locked loop and the plain channel,
// and the performance targets, each marked MET or NOT MET.
//
//	cd bench && go run ./cmd/report                 # about four and a half minutes
//	go run ./cmd/report -quick                      # a few seconds, to check it works
//	go run ./cmd/report -svg chart.svg -md report.md
//
// The main goroutine serves golang.design/x/mainthread for the whole run, so
// that its peer can be measured; everything else runs on other goroutines.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/threadrunner/threadrunner/bench/internal/cases"
	"github.com/threadrunner/threadrunner/bench/internal/report"
	"github.com/threadrunner/threadrunner/bench/peers"
)

func main() {
	quick := flag.Bool("quick", false, "a few seconds: check that everything runs; the numbers are not worth quoting")
	rounds := flag.Int("rounds", 0, "rounds of every case on every system (default 5, 2 with -quick)")
	duration := flag.Duration("duration", 0, "length of one timed run of a case on a system (default 150ms, 15ms with -quick)")
	idle := flag.Duration("idle", 0, "idle window of the idle case (default 1s, 50ms with -quick)")
	suspend := flag.Int("suspend", 0, "tasks of the suspend case (default 100000, 10000 with -quick)")
	only := flag.String("cases", "", "comma-separated case names to run (default all): "+caseNames())
	systems := flag.String("systems", "", "comma-separated system names to run (default all)")
	svg := flag.String("svg", "", "write an SVG bar chart to this file")
	md := flag.String("md", "", "write the markdown report to this file too")
	flag.Parse()

	cfg := report.DefaultConfig()
	if *quick {
		cfg = report.QuickConfig()
	}
	setIf(&cfg.Rounds, *rounds)
	setIf(&cfg.Cases.Duration, *duration)
	setIf(&cfg.Cases.IdleWindow, *idle)
	setIf(&cfg.Cases.SuspendN, *suspend)
	cfg.Only = split(*only)
	cfg.Systems = split(*systems)
	cfg.SVG, cfg.MD = *svg, *md

	var err error
	peers.ServeMainThread(func() { err = report.Run(cfg) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// setIf sets *dst to v unless v is the zero value (the flag was not given).
func setIf[T int | time.Duration](dst *T, v T) {
	if v != 0 {
		*dst = v
	}
}

// caseNames lists the report's cases, in report order, for -cases's help.
func caseNames() string {
	var names []string
	for _, c := range cases.All() {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
