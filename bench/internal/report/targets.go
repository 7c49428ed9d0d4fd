package report

import (
	"fmt"
	"strings"

	"github.com/threadrunner/threadrunner/bench/peers"
)

// A Target is one goal of the performance issue, judged from the medians.
type Target struct {
	Goal     string
	Measured string // the numbers the verdict rests on
	Verdict  string // "MET", "NOT MET" or "NOT MEASURED"
}

// Met reports whether the target was measured and met.
func (t Target) Met() bool { return t.Verdict == "MET" }

func verdict(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}

var notMeasured = Target{Measured: "not measured in this run", Verdict: "NOT MEASURED"}

// Targets judges the targets from the medians.
func (r *Results) Targets() []Target {
	pin, unpin, naive, chn := peers.NamePinned, peers.NameUnpinned, peers.NameNaive, peers.NameChan
	var ts []Target
	add := func(goal string, measured bool, met bool, format string, args ...any) {
		ts = append(ts, target(goal, measured, met, format, args...))
	}
	stat := func(c, s string) (Stat, bool) { return r.Stat(c, s) }

	p, ok1 := stat("run", pin)
	n, ok2 := stat("run", naive)
	x := n.Median / p.Median
	add("pinned Run >= 20x faster than the naive locked channel loop", ok1 && ok2, x >= 20,
		"%s faster (%.0f ns against %.0f ns)", formatRatio(x), p.Median, n.Median)

	u, ok1 := stat("run", unpin)
	c, ok2 := stat("run", chn)
	x = u.Median / c.Median
	add("unpinned Run within 1.5x of a plain unlocked channel round trip", ok1 && ok2, x <= 1.5,
		"%.2fx the channel's time (%.0f ns against %.0f ns)", x, u.Median, c.Median)

	p, ok1 = stat("run-8", pin)
	n, ok2 = stat("run-8", naive)
	x = n.Median / p.Median
	add("8 concurrent callers: aggregate pinned Run throughput >= 20x the naive locked loop's", ok1 && ok2, x >= 20,
		"%s the throughput (%.0f ns against %.0f ns per call, aggregate)", formatRatio(x), p.Median, n.Median)

	it, ok1 := stat("iter", pin)
	ch, ok2 := stat("iter", chn)
	x = it.Median / ch.Median
	add("Iter >= 20 million items/s and >= half a buffered channel's rate", ok1 && ok2, it.Median >= 20e6 && x >= 0.5,
		"%s items/s, %.2fx the buffered channel's %s items/s", formatValue(it.Median, "items/s"), x, formatValue(ch.Median, "items/s"))

	p, ok1 = stat("run", pin)
	u, ok2 = stat("run", unpin)
	add("allocations per Run: 0", ok1, p.Allocs < 0.005,
		"%.2f allocs per pinned Run, %s per unpinned Run", p.Allocs, allocsOr(u, ok2))

	p, ok1 = stat("idle", pin)
	n, ok2 = stat("idle", naive)
	add("idle loop < 1 ms of CPU per second (whole process, right after work)", ok1, p.Median < 1,
		"%.2f cpu-ms/s pinned; the process with an idle naive loop: %s", p.Median, cpuOr(n, ok2))
	return append(ts, r.jsTargets()...)
}

// target is one judged goal; measured false gives NOT MEASURED.
func target(goal string, measured, met bool, format string, args ...any) Target {
	t := notMeasured
	if measured {
		t = Target{Measured: fmt.Sprintf(format, args...), Verdict: verdict(met)}
	}
	t.Goal = goal
	return t
}

func allocsOr(s Stat, ok bool) string {
	if !ok {
		return "not measured"
	}
	return fmt.Sprintf("%.2f", s.Allocs)
}

func cpuOr(s Stat, ok bool) string {
	if !ok {
		return "not measured"
	}
	return fmt.Sprintf("%.2f cpu-ms/s", s.Median)
}

// TargetsMarkdown returns the targets as a markdown table.
func (r *Results) TargetsMarkdown() string {
	var b strings.Builder
	b.WriteString("### Targets of the performance issue, judged on the medians\n\n")
	b.WriteString("| target | measured | verdict |\n|---|---|---|\n")
	for _, t := range r.Targets() {
		fmt.Fprintf(&b, "| %s | %s | **%s** |\n", t.Goal, t.Measured, t.Verdict)
	}
	return b.String()
}
