// Command fanout: the fanout workload of datasets/go (defaults: 3 rounds of 256 workers, worker i
// spinning for 50µs << (i % 8)); efficiency = ideal / wall, where ideal = total busy-work / GOMAXPROCS.
package main

import (
	"runtime"
	"time"

	"gosched/benchmarks/bench"
	"gosched/datasets/workload"
)

func main() {
	p := workload.DefaultFanout
	var wallMs []float64
	var idealMs float64
	runs := bench.Run(func() float64 {
		start := time.Now()
		busy := workload.Fanout(p)
		wall := time.Since(start)
		ideal := busy / time.Duration(runtime.GOMAXPROCS(0))
		wallMs = append(wallMs, float64(wall)/1e6)
		idealMs = float64(ideal) / 1e6
		return float64(ideal) / float64(wall)
	})
	bench.Print("fanout", "efficiency", runs,
		bench.Field{Name: "ideal_ms", Value: idealMs},
		bench.Field{Name: "wall_ms", Value: bench.Median(wallMs[1:])},
		bench.Field{Name: "rounds", Value: p.Rounds},
		bench.Field{Name: "workers", Value: p.Workers},
		bench.Field{Name: "unit_us", Value: p.Unit.Microseconds()})
}
