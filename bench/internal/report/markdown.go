package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/threadrunner/threadrunner/bench/internal/cases"
	"github.com/threadrunner/threadrunner/bench/peers"
)

// Markdown returns the report: the machine, the table of medians and
// ratios, the targets, and how the numbers were taken.
func (r *Results) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## threadrunner against its peers\n\n")
	fmt.Fprintf(&b, "Machine: %s.\n\n", r.Machine)
	fmt.Fprintf(&b, "%d rounds of about %v per timed case, interleaved in one process (%s, idle window %v, %d suspended tasks). "+
		"Median and best round per cell; \"vs\" columns are how many times better than the reference (above 1 is better, whatever the unit); "+
		"allocs/op counts the whole process.\n\n",
		r.Config.Rounds, r.Config.Cases.Duration, cases.Procs(), r.Config.Cases.IdleWindow, r.Config.Cases.SuspendN)
	b.WriteString("| case | system | median | best | unit | vs naive-locked | vs chan-unlocked | allocs/op |\n")
	b.WriteString("|---|---|--:|--:|---|--:|--:|--:|\n")
	for _, c := range r.Cases {
		for _, s := range r.Systems {
			st, ok := r.Stat(c.Name, s)
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
				c.Name, s, formatValue(st.Median, c.Unit), formatValue(st.Best, c.Unit), c.Unit,
				r.ratioCell(c.Name, s, c.NaiveRef, peers.NameNaive),
				r.ratioCell(c.Name, s, c.ChanRef, peers.NameChan),
				formatAllocs(st.Allocs))
		}
	}
	b.WriteString("\nCases:\n\n")
	for _, c := range r.Cases {
		fmt.Fprintf(&b, "- `%s`: %s.\n", c.Name, c.Title)
	}
	b.WriteString("\nSystems:\n\n")
	for _, p := range peers.All() {
		for _, s := range r.Systems {
			if s == p.Name {
				fmt.Fprintf(&b, "- `%s`: %s.\n", p.Name, p.Doc)
			}
		}
	}
	b.WriteString("\n")
	b.WriteString(r.TargetsMarkdown())
	if len(r.errs) > 0 {
		b.WriteString("\n### Errors\n\n")
		for _, err := range r.errs {
			fmt.Fprintf(&b, "- %v\n", err)
		}
	}
	return b.String()
}

func (r *Results) ratioCell(c, s, refCase, refSys string) string {
	x, ok := r.Speedup(c, s, refCase, refSys)
	if !ok {
		return ""
	}
	return formatRatio(x)
}

func formatRatio(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0fx", x)
	}
	return fmt.Sprintf("%.2fx", x)
}

func formatAllocs(a float64) string {
	if math.IsNaN(a) {
		return ""
	}
	if a < 10 {
		return fmt.Sprintf("%.2f", a)
	}
	return fmt.Sprintf("%.0f", a)
}

// formatValue prints v with about three significant digits.
func formatValue(v float64, unit string) string {
	if unit == cases.ItemsPerSec {
		switch {
		case v >= 1e9:
			return fmt.Sprintf("%.2fG", v/1e9)
		case v >= 1e6:
			return fmt.Sprintf("%.2fM", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.1fk", v/1e3)
		}
	}
	switch {
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
