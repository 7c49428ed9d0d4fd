package report

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/threadrunner/threadrunner/bench/internal/cases"
)

// SVG layout, in pixels.
const (
	svgWidth  = 980
	svgLabelX = 16  // left edge of labels
	svgBarX0  = 300 // left edge of the bar area
	svgBarX1  = 860 // right edge of the bar area
	svgRow    = 20  // height of a bar row
	svgHead   = 26  // height of a case's header row
	svgTop    = 78  // first row, below the title and the axis labels
)

// svgColors are the systems' bar colors, in report order.
var svgColors = []string{"#b33", "#e69138", "#8e7cc3", "#6aa84f", "#38761d", "#1155cc", "#45a0e0", "#777"}

// A bar is one system's median time per operation in one case.
type bar struct {
	system string
	color  string
	ns     float64
}

// SVG returns a bar chart of the median time per operation (per item for
// Iter) of every timed case and system, on a log scale: shorter is better.
func (r *Results) SVG() string {
	type group struct {
		title string
		bars  []bar
	}
	var groups []group
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range r.Cases {
		if c.Unit != cases.NsPerOp && c.Unit != cases.ItemsPerSec {
			continue
		}
		g := group{title: c.Name + ": " + c.Title}
		if c.Unit == cases.ItemsPerSec {
			g.title += " — ns per item"
		}
		for i, s := range r.Systems {
			st, ok := r.Stat(c.Name, s)
			if !ok || st.Median <= 0 {
				continue
			}
			ns := st.Median
			if c.Unit == cases.ItemsPerSec {
				ns = 1e9 / st.Median
			}
			g.bars = append(g.bars, bar{system: s, color: svgColors[i%len(svgColors)], ns: ns})
			lo, hi = math.Min(lo, ns), math.Max(hi, ns)
		}
		if len(g.bars) > 0 {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		lo, hi = 1, 10
	}
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if math.Pow(10, dlo) >= lo {
		dlo-- // keep the shortest bar visible
	}
	if dhi <= dlo {
		dhi = dlo + 1
	}
	x := func(ns float64) float64 {
		return svgBarX0 + (math.Log10(ns)-dlo)/(dhi-dlo)*(svgBarX1-svgBarX0)
	}

	height := svgTop + 30
	for _, g := range groups {
		height += svgHead + len(g.bars)*svgRow
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="16" font-weight="bold">threadrunner against its peers: median time per operation (log scale, shorter is better)</text>`+"\n", svgLabelX)
	fmt.Fprintf(&b, `<text x="%d" y="40" fill="#555">%s</text>`+"\n", svgLabelX, html.EscapeString(r.Machine.String()))
	fmt.Fprintf(&b, `<text x="%d" y="56" fill="#555">%s</text>`+"\n", svgLabelX,
		html.EscapeString(fmt.Sprintf("median of %d rounds; go run ./cmd/report", r.Config.Rounds)))
	bottom := height - 24
	for d := dlo; d <= dhi; d++ {
		gx := x(math.Pow(10, d))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", gx, svgTop-6, gx, bottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", gx, svgTop-10, decadeLabel(d))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", gx, bottom+14, decadeLabel(d))
	}
	y := svgTop
	for _, g := range groups {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", svgLabelX, y+svgHead-8, html.EscapeString(g.title))
		y += svgHead
		for _, br := range g.bars {
			w := x(br.ns) - svgBarX0
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", svgLabelX+12, y+svgRow-6, html.EscapeString(br.system))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", svgBarX0, y+3, math.Max(w, 1), svgRow-6, br.color)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#333">%s</text>`+"\n", svgBarX0+math.Max(w, 1)+6, y+svgRow-6, formatNs(br.ns))
			y += svgRow
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// decadeLabel names 10^d nanoseconds.
func decadeLabel(d float64) string {
	return formatNs(math.Pow(10, d))
}

// formatNs prints a duration in nanoseconds with a fitting unit.
func formatNs(ns float64) string {
	switch {
	case ns >= 1e9:
		return trim(ns/1e9) + " s"
	case ns >= 1e6:
		return trim(ns/1e6) + " ms"
	case ns >= 1e3:
		return trim(ns/1e3) + " µs"
	default:
		return trim(ns) + " ns"
	}
}

func trim(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0")
	default:
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", v), "0"), ".0")
	}
}
