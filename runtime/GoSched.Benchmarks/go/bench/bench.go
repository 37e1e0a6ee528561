// Package bench is what the Go reference benchmarks share: warm-up plus repetitions, the median,
// and the one JSON line each program prints, in the shape `gosched bench` reads:
//
//	{"workload":"pingpong","system":"go","gomaxprocs":2,"metric":"ns_per_roundtrip","median":310.5,"runs":[...]}
//
// followed by any extra figures of that workload as further top-level fields.
package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
)

// Reps is how many timed repetitions each benchmark makes after one untimed warm-up.
const Reps = 7

// Run calls run once to warm up (discarded), then Reps times, and returns the Reps results.
func Run(run func() float64) []float64 {
	run()
	runs := make([]float64, Reps)
	for i := range runs {
		runs[i] = run()
	}
	return runs
}

// Median of xs (the mean of the middle two for an even count).
func Median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Field is one extra top-level field of the JSON line.
type Field struct {
	Name  string
	Value any
}

// Print writes the JSON line: the fixed fields, then extra in the order given.
func Print(workload, metric string, runs []float64, extra ...Field) {
	fields := append([]Field{
		{"workload", workload},
		{"system", "go"},
		{"gomaxprocs", runtime.GOMAXPROCS(0)},
		{"metric", metric},
		{"median", Median(runs)},
		{"runs", runs},
	}, extra...)
	parts := make([]string, len(fields))
	for i, f := range fields {
		v, err := json.Marshal(f.Value)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		parts[i] = fmt.Sprintf("%q:%s", f.Name, v)
	}
	fmt.Println("{" + strings.Join(parts, ",") + "}")
}
