// Package report runs every case of package cases on every peer, side by
// side in one process, interleaved in rounds, and prints the medians as a
// markdown table with ratios against the references, the performance
// issue's targets judged from them, and an SVG chart. cmd/report is its
// command line.
package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/threadrunner/threadrunner/bench/internal/cases"
	"github.com/threadrunner/threadrunner/bench/peers"
)

// Config says what to run and where to write it.
type Config struct {
	Rounds  int
	Cases   cases.Config
	Only    []string  // case names to run; all if empty
	Systems []string  // peer names to run; all if empty
	Out     io.Writer // the markdown report
	Log     io.Writer // progress, one line per round; nil for none
	SVG     string    // path of the SVG chart; none if empty
	MD      string    // path to write the markdown report to as well; none if empty
}

// DefaultConfig runs in about a minute and a half.
func DefaultConfig() Config {
	return Config{Rounds: 5, Cases: cases.DefaultConfig(), Out: os.Stdout, Log: os.Stderr}
}

// QuickConfig runs in a few seconds: numbers to check that everything works,
// not to quote.
func QuickConfig() Config {
	c := DefaultConfig()
	c.Rounds = 2
	c.Cases.Duration = 15 * time.Millisecond
	c.Cases.SuspendN = 10_000
	c.Cases.PendingN = 1_000
	c.Cases.IdleWindow = 50 * time.Millisecond
	return c
}

// Run measures, then writes the report. If golang.design/x/mainthread is not
// being served (see peers.ServeMainThread), its peer is left out. Run returns
// an error if a measurement failed or a file could not be written; the
// report is written anyway.
func Run(cfg Config) error {
	res, err := Measure(cfg)
	if err != nil {
		return err
	}
	var errs []error
	md := res.Markdown()
	if _, err := io.WriteString(cfg.Out, md); err != nil {
		errs = append(errs, err)
	}
	if cfg.MD != "" {
		errs = append(errs, os.WriteFile(cfg.MD, []byte(md), 0o644))
	}
	if cfg.SVG != "" {
		errs = append(errs, os.WriteFile(cfg.SVG, []byte(res.SVG()), 0o644))
	}
	errs = append(errs, res.errs...)
	return errors.Join(errs...)
}

// Measure runs the rounds and returns the samples. Round r runs every case,
// and within a case every system, each on a fresh system that is closed
// right after; the order of systems rotates from round to round so that
// drift and after-effects hit each one in every position.
func Measure(cfg Config) (*Results, error) {
	if cfg.Rounds < 1 {
		return nil, fmt.Errorf("report: Rounds = %d; want >= 1", cfg.Rounds)
	}
	var (
		cs    []cases.Case
		ps    []peers.Peer
		names []string
	)
	for _, c := range cases.All() {
		if len(cfg.Only) == 0 || slices.Contains(cfg.Only, c.Name) {
			cs = append(cs, c)
		}
	}
	for _, p := range peers.All() {
		if len(cfg.Systems) == 0 || slices.Contains(cfg.Systems, p.Name) {
			ps = append(ps, p)
			names = append(names, p.Name)
		}
	}
	res := NewResults(cfg, cs, names)
	if len(res.Cases) == 0 || len(ps) == 0 {
		return nil, fmt.Errorf("report: nothing to run (cases %v, systems %v)", cfg.Only, cfg.Systems)
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format, args...)
		}
	}
	logf("report: %s\n", res.Machine)
	start := time.Now()
	for r := range cfg.Rounds {
		t0 := time.Now()
		for _, c := range res.Cases {
			for i := range ps {
				p := ps[(i+r)%len(ps)]
				if !c.Applies(p) {
					continue
				}
				s, ok, err := measureOne(c, p, cfg.Cases)
				if err != nil {
					res.errs = append(res.errs, fmt.Errorf("round %d, %s on %s: %w", r+1, c.Name, p.Name, err))
					continue
				}
				if ok {
					res.Add(c.Name, p.Name, s)
				}
			}
		}
		logf("report: round %d/%d done in %v\n", r+1, cfg.Rounds, time.Since(t0).Round(time.Millisecond))
	}
	logf("report: measured in %v\n", time.Since(start).Round(time.Millisecond))
	return res, nil
}

// measureOne measures case c on a fresh system of peer p.
func measureOne(c cases.Case, p peers.Peer, cfg cases.Config) (s cases.Sample, ok bool, err error) {
	runtime.GC() // leave the previous system's garbage out of this one's time
	sys, err := p.New()
	if err != nil {
		return s, false, err
	}
	defer func() {
		err = errors.Join(err, sys.Close())
	}()
	return c.Measure(sys, cfg)
}
