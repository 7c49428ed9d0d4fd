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
	judged, recorded := 0, 0
	for _, tg := range (&report.Results{}).Targets() {
		if strings.HasPrefix(tg.Goal, "(for the record)") {
			recorded++
		} else {
			judged++
		}
	}
	if n := strings.Count(md, "| **MET** |") + strings.Count(md, "| **NOT MET** |"); n != judged {
		t.Errorf("report judges %d targets; want %d:\n%s", n, judged, md)
	}
	if n := strings.Count(md, "| **RECORDED** |"); n != recorded {
		t.Errorf("report records %d numbers; want %d:\n%s", n, recorded, md)
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
		peers.NameNaive, peers.NameChan, peers.NameGojaLoop, peers.NamePinned, peers.NameUnpinned, peers.NameLabels})
	for k, v := range cells {
		r.Add(k[0], k[1], cases.Sample{Value: v, Allocs: allocs, Ops: 1})
	}
	return r
}

func TestTargetsVerdicts(t *testing.T) {
	pin, unpin, naive, ch := peers.NamePinned, peers.NameUnpinned, peers.NameNaive, peers.NameChan
	trjs, gp, gd, p1, p2 := peers.NameJS, peers.NameGojaPromise, peers.NameGojaDirect, peers.NameJSPool1, peers.NameJSPool2
	gl, lab := peers.NameGojaLoop, peers.NameLabels
	common := map[[2]string]float64{
		{"step", pin}: 1000, {"step-traced", pin}: 3000, {"step", lab}: 1200, {"run-traced", pin}: 900,
		{"post-chan", pin}: 50000, {"post-chan", gl}: 500,
	}
	good := map[[2]string]float64{
		{"run", naive}: 20000, {"run", ch}: 300, {"run", pin}: 290, {"run", unpin}: 280,
		{"run-8", ch}: 900, {"run-8", pin}: 800, {"submit", pin}: 400,
		{"iter", ch}: 30e6, {"iter", pin}: 25e6,
		{"idle", pin}: 0.5, {"idle", naive}: 0.4,
		{"run", trjs}: 2000, {"run", gp}: 5000, {"run-8", trjs}: 2000, {"run-8", gp}: 5000,
		{"js-await-go", trjs}: 3000, {"js-await-go", gp}: 5000, {"js-timeout", trjs}: 1000, {"js-timeout", gp}: 5000,
		{"js-iter", trjs}: 1200, {"js-iter", gd}: 1000, {"js-pending", trjs}: 5000, {"js-pending", gp}: 6000,
		{"js-pool-http", p1}: 100, {"js-pool-http", p2}: 190,
		{"timer-10ms", ch}: 15, {"timer-10ms", pin}: 14, {"timer-100ms", ch}: 2, {"timer-100ms", pin}: 2.1,
		{"post", gl}: 600, {"post", pin}: 500, {"afterfunc", ch}: 100e3, {"afterfunc", pin}: 90e3,
		{"spawn", ch}: 1000, {"spawn", pin}: 900,
	}
	bad := map[[2]string]float64{
		{"run", naive}: 20000, {"run", ch}: 300, {"run", pin}: 2000, {"run", unpin}: 500,
		{"run-8", ch}: 900, {"run-8", pin}: 1000, {"submit", pin}: 2000,
		{"iter", ch}: 60e6, {"iter", pin}: 25e6,
		{"idle", pin}: 3, {"idle", naive}: 0.4,
		{"run", trjs}: 3000, {"run", gp}: 5000, {"run-8", trjs}: 3000, {"run-8", gp}: 5000,
		{"js-await-go", trjs}: 4000, {"js-await-go", gp}: 5000, {"js-timeout", trjs}: 4000, {"js-timeout", gp}: 5000,
		{"js-iter", trjs}: 1400, {"js-iter", gd}: 1000, {"js-pending", trjs}: 7000, {"js-pending", gp}: 6000,
		{"js-pool-http", p1}: 100, {"js-pool-http", p2}: 160,
		{"timer-10ms", ch}: 15, {"timer-10ms", pin}: 70, {"timer-100ms", ch}: 2, {"timer-100ms", pin}: 20,
		{"post", gl}: 600, {"post", pin}: 5000, {"afterfunc", ch}: 100e3, {"afterfunc", pin}: 200e3,
		{"spawn", ch}: 1000, {"spawn", pin}: 2000,
	}
	for k, v := range common {
		good[k], bad[k] = v, v
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
			if len(ts) != 16+7 {
				t.Fatalf("Targets() has %d targets; want 23 (16 of the loop's issues, 7 of the JavaScript one)", len(ts))
			}
			for _, target := range ts {
				want := tt.want
				if strings.HasPrefix(target.Goal, "(for the record)") && want != "NOT MEASURED" {
					want = "RECORDED"
				}
				if target.Verdict != want {
					t.Errorf("target %q = %s (%s); want %s", target.Goal, target.Verdict, target.Measured, want)
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
