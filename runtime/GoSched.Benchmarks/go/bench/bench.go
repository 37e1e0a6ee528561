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
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// Reps is how many timed repetitions each benchmark makes after one untimed warm-up:
// GOSCHED_BENCH_REPS when set (gosched bench passes its --reps), else 7.
var Reps = repsFromEnv()

func repsFromEnv() int {
	if n, err := strconv.Atoi(os.Getenv("GOSCHED_BENCH_REPS")); err == nil && n >= 1 {
		return n
	}
	return 7
}

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

// RunFigures is Run for a benchmark whose repetition measures several figures: run returns them
// by name, metric names the one that is the benchmark's metric. It returns the metric of every
// timed repetition and, as extra fields in name order, the median of each figure over them
// (rounded to 6 decimals), as `gosched bench` reports its in-process sides.
func RunFigures(metric string, run func() map[string]float64) ([]float64, []Field) {
	var reps []map[string]float64
	runs := Run(func() float64 {
		f := run()
		reps = append(reps, f)
		return f[metric]
	})
	reps = reps[1:] // the warm-up
	keys := make([]string, 0, len(reps[0]))
	for k := range reps[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	extra := make([]Field, 0, len(keys))
	for _, k := range keys {
		xs := make([]float64, len(reps))
		for i, r := range reps {
			xs[i] = r[k]
		}
		extra = append(extra, Field{Name: k, Value: math.Round(Median(xs)*1e6) / 1e6})
	}
	return runs, extra
}

// Percentile of samples sorted ascending, read at the same rank as HdrHistogram's
// getValueAtPercentile (the C# sides use HdrHistogram; the sorted samples give the exact value at
// that rank); 100 is the maximum.
func Percentile(sorted []int64, p float64) int64 {
	rank := int(p/100*float64(len(sorted)) + 0.5)
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// SortedCopy returns the samples sorted ascending, leaving xs as it was.
func SortedCopy(xs []int64) []int64 {
	s := append([]int64(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}
