package report_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threadrunner/threadrunner/bench/internal/cases"
	"github.com/threadrunner/threadrunner/bench/internal/report"
	"github.com/threadrunner/threadrunner/bench/peers"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestQuickReport(t *testing.T) {
	testkit.Check(t)
	dir := t.TempDir()
	var out bytes.Buffer
	cfg := report.QuickConfig()
	cfg.Out, cfg.Log = &out, nil
	cfg.SVG, cfg.MD = filepath.Join(dir, "chart.svg"), filepath.Join(dir, "report.md")
	if err := report.Run(cfg); err != nil {
		t.Fatalf("Run() = %v; want nil\n%s", err, out.String())
	}
	md := out.String()
	for _, c := range cases.All() {
		sys := peers.NamePinned
		if strings.HasPrefix(c.Name, "js-") {
			sys = peers.NameJSPool1 // the JavaScript cases' systems
			if c.Name != "js-pool-http" {
				sys = peers.NameJS
			}
		}
		if !strings.Contains(md, "| "+c.Name+" | "+sys+" |") {
			t.Errorf("report lacks the row of case %s on %s:\n%s", c.Name, sys, md)
		}
	}
	for _, p := range peers.All() {
		if !strings.Contains(md, "| run | "+p.Name+" |") {
			t.Errorf("report lacks the run row of %s:\n%s", p.Name, md)
		}
	}
	if n := strings.Count(md, "| **MET** |") + strings.Count(md, "| **NOT MET** |"); n != 13 {
		t.Errorf("report judges %d targets; want 13:\n%s", n, md)
	}
	if got, err := os.ReadFile(cfg.MD); err != nil || string(got) != md {
		t.Errorf("markdown file = %q, %v; want what was printed", got, err)
	}
	svg, err := os.ReadFile(cfg.SVG)
	if err != nil {
		t.Fatal(err)
	}
	if err := wellFormed(svg); err != nil {
		t.Errorf("SVG is not well-formed XML: %v", err)
	}
	if n := bytes.Count(svg, []byte("<rect ")); n < 20 {
		t.Errorf("SVG has %d bars; want one per timed case and system (at least 20)", n)
	}
}

// wellFormed reports whether b parses as XML to the end.
func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// results builds results from median values: one sample per cell.
func results(cells map[[2]string]float64, allocs float64) *report.Results {
	r := report.NewResults(report.QuickConfig(), cases.All(), []string{
		peers.NameNaive, peers.NameChan, peers.NamePinned, peers.NameUnpinned})
	for k, v := range cells {
		r.Add(k[0], k[1], cases.Sample{Value: v, Allocs: allocs, Ops: 1})
	}
	return r
}

func TestTargetsVerdicts(t *testing.T) {
	pin, unpin, naive, ch := peers.NamePinned, peers.NameUnpinned, peers.NameNaive, peers.NameChan
	trjs, gp, gd, p1, p2 := peers.NameJS, peers.NameGojaPromise, peers.NameGojaDirect, peers.NameJSPool1, peers.NameJSPool2
	good := map[[2]string]float64{
		{"run", naive}: 20000, {"run", ch}: 300, {"run", pin}: 900, {"run", unpin}: 400,
		{"run-8", naive}: 20000, {"run-8", pin}: 500,
		{"iter", ch}: 30e6, {"iter", pin}: 25e6,
		{"idle", pin}: 0.5, {"idle", naive}: 0.4,
		{"run", trjs}: 2000, {"run", gp}: 5000, {"run-8", trjs}: 2000, {"run-8", gp}: 5000,
		{"js-await-go", trjs}: 3000, {"js-await-go", gp}: 5000, {"js-timeout", trjs}: 1000, {"js-timeout", gp}: 5000,
		{"js-iter", trjs}: 1200, {"js-iter", gd}: 1000, {"js-pending", trjs}: 5000, {"js-pending", gp}: 6000,
		{"js-pool-http", p1}: 100, {"js-pool-http", p2}: 190,
	}
	bad := map[[2]string]float64{
		{"run", naive}: 20000, {"run", ch}: 300, {"run", pin}: 2000, {"run", unpin}: 500,
		{"run-8", naive}: 5000, {"run-8", pin}: 1000,
		{"iter", ch}: 60e6, {"iter", pin}: 25e6,
		{"idle", pin}: 3, {"idle", naive}: 0.4,
		{"run", trjs}: 3000, {"run", gp}: 5000, {"run-8", trjs}: 3000, {"run-8", gp}: 5000,
		{"js-await-go", trjs}: 4000, {"js-await-go", gp}: 5000, {"js-timeout", trjs}: 4000, {"js-timeout", gp}: 5000,
		{"js-iter", trjs}: 1400, {"js-iter", gd}: 1000, {"js-pending", trjs}: 7000, {"js-pending", gp}: 6000,
		{"js-pool-http", p1}: 100, {"js-pool-http", p2}: 160,
	}
	tests := []struct {
		name   string
		cells  map[[2]string]float64
		allocs float64
		want   string
	}{
		{"all met", good, 0, "MET"},
		{"all missed", bad, 1, "NOT MET"},
		{"nothing measured", map[[2]string]float64{}, 0, "NOT MEASURED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := results(tt.cells, tt.allocs).Targets()
			if len(ts) != 13 {
				t.Fatalf("Targets() has %d targets; want 13 (6 of the performance issue, 7 of the JavaScript one)", len(ts))
			}
			for _, target := range ts {
				if target.Verdict != tt.want {
					t.Errorf("target %q = %s (%s); want %s", target.Goal, target.Verdict, target.Measured, tt.want)
				}
			}
		})
	}
}

func TestStatAndSpeedup(t *testing.T) {
	r := report.NewResults(report.QuickConfig(), cases.All(), []string{peers.NameChan, peers.NamePinned})
	for _, v := range []float64{300, 100, 200} {
		r.Add("run", peers.NamePinned, cases.Sample{Value: v, Allocs: math.NaN()})
	}
	r.Add("run", peers.NameChan, cases.Sample{Value: 400})
	for _, v := range []float64{10e6, 30e6} {
		r.Add("iter", peers.NamePinned, cases.Sample{Value: v})
	}
	r.Add("iter", peers.NameChan, cases.Sample{Value: 40e6})

	st, ok := r.Stat("run", peers.NamePinned)
	if !ok || st.Median != 200 || st.Best != 100 || st.Rounds != 3 || !math.IsNaN(st.Allocs) {
		t.Errorf("Stat(run) = %+v, %v; want median 200, best 100, 3 rounds, allocs NaN", st, ok)
	}
	st, ok = r.Stat("iter", peers.NamePinned)
	if !ok || st.Median != 20e6 || st.Best != 30e6 {
		t.Errorf("Stat(iter) = %+v, %v; want median 20e6, best 30e6 (higher is better)", st, ok)
	}
	if x, ok := r.Speedup("run", peers.NamePinned, "run", peers.NameChan); !ok || x != 2 {
		t.Errorf("Speedup(run) = %v, %v; want 2 (half the time)", x, ok)
	}
	if x, ok := r.Speedup("iter", peers.NamePinned, "iter", peers.NameChan); !ok || x != 0.5 {
		t.Errorf("Speedup(iter) = %v, %v; want 0.5 (half the rate)", x, ok)
	}
	if _, ok := r.Stat("spawn", peers.NamePinned); ok {
		t.Errorf("Stat(spawn) reports a cell that was never measured")
	}
}
