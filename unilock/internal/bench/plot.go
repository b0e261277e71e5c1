package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strings"
)

// Plot writes an SVG picture of the points: one panel per benchmark, time
// per operation against GOMAXPROCS, old and new medians joined by lines,
// each with its 95% confidence interval as a bar. Significant changes (at
// alpha) are marked with the change in percent.
func Plot(w io.Writer, ps []Point, title, oldLabel, newLabel string, alpha float64) error {
	type panel struct {
		name string
		pts  []Point
	}
	var panels []*panel
	byName := map[string]*panel{}
	for _, p := range ps {
		name := p.Pkg + "." + p.Bench
		pn := byName[name]
		if pn == nil {
			pn = &panel{name: name}
			byName[name] = pn
			panels = append(panels, pn)
		}
		pn.pts = append(pn.pts, p)
	}
	const (
		cols   = 3
		pw, ph = 330, 210 // panel size
		ml, mr = 62, 12   // plot margins inside a panel
		mt, mb = 28, 34
		head   = 74
	)
	rows := (len(panels) + cols - 1) / cols
	width, height := cols*pw, head+rows*ph
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="15" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	fmt.Fprintf(&b, `<line x1="12" y1="40" x2="36" y2="40" stroke="#888" stroke-width="2"/><text x="40" y="44">old: %s</text>`+"\n", html.EscapeString(oldLabel))
	fmt.Fprintf(&b, `<line x1="%d" y1="40" x2="%d" y2="40" stroke="#1f6fd1" stroke-width="2"/><text x="%d" y="44">new: %s</text>`+"\n", width/2, width/2+24, width/2+28, html.EscapeString(newLabel))
	fmt.Fprintf(&b, `<text x="10" y="62" fill="#555">time/op against GOMAXPROCS (-cpu); bars: 95%% confidence interval of the median; %%: significant change (p &lt; %.2g)</text>`+"\n", alpha)
	for i, pn := range panels {
		x0, y0 := (i%cols)*pw, head+(i/cols)*ph
		sort.Slice(pn.pts, func(a, c int) bool { return pn.pts[a].CPU < pn.pts[c].CPU })
		top := 0.0
		for _, p := range pn.pts {
			top = math.Max(top, math.Max(finite(p.Old.Hi, p.Old.Center), finite(p.New.Hi, p.New.Center)))
		}
		if top <= 0 {
			top = 1
		}
		top *= 1.12
		scale, unit := timeUnit(top)
		plotW, plotH := float64(pw-ml-mr), float64(ph-mt-mb)
		n := len(pn.pts)
		xAt := func(j int) float64 {
			if n == 1 {
				return float64(x0+ml) + plotW/2
			}
			return float64(x0+ml) + plotW*float64(j)/float64(n-1)*0.9 + plotW*0.05
		}
		yAt := func(v float64) float64 { return float64(y0+mt) + plotH*(1-v/top) }
		fmt.Fprintf(&b, `<g><text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", x0+ml, y0+16, html.EscapeString(pn.name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#ccc"/>`+"\n", x0+ml, y0+mt, plotW, plotH)
		for t := 0; t <= 4; t++ {
			v := top * float64(t) / 4
			y := yAt(v)
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n",
				x0+ml, y, float64(x0+ml)+plotW, y, x0+ml-4, y+4, formatTick(v*scale)+unit)
		}
		for j, p := range pn.pts {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%d</text>`+"\n", xAt(j), y0+ph-mb+14, p.CPU)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">-cpu</text>`+"\n", float64(x0+ml)+plotW/2, y0+ph-mb+28)
		for side, color := range []string{"#888", "#1f6fd1"} {
			var line []string
			for j, p := range pn.pts {
				s := p.Old
				off := -3.0
				if side == 1 {
					s, off = p.New, 3.0
				}
				x := xAt(j) + off
				line = append(line, fmt.Sprintf("%.1f,%.1f", x, yAt(s.Center)))
				if !math.IsInf(s.Lo, 0) && !math.IsInf(s.Hi, 0) {
					fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`+"\n", x, yAt(s.Lo), x, yAt(s.Hi), color)
				}
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`+"\n", x, yAt(s.Center), color)
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", strings.Join(line, " "), color)
		}
		for j, p := range pn.pts {
			if v := p.Verdict(alpha); v != "~" {
				color := "#0a7d28"
				if strings.HasPrefix(v, "+") {
					color = "#c62828"
				}
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s" font-size="10">%s</text>`+"\n", xAt(j), yAt(math.Max(finite(p.Old.Hi, p.Old.Center), finite(p.New.Hi, p.New.Center)))-4, color, v)
			}
		}
		fmt.Fprintf(&b, "</g>\n")
	}
	fmt.Fprintf(&b, "</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func finite(v, or float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return or
	}
	return v
}

// timeUnit picks a unit for seconds up to top.
func timeUnit(top float64) (scale float64, unit string) {
	switch {
	case top < 1e-6:
		return 1e9, "ns"
	case top < 1e-3:
		return 1e6, "µs"
	case top < 1:
		return 1e3, "ms"
	}
	return 1, "s"
}

func formatTick(v float64) string {
	if v >= 100 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	if v >= 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
