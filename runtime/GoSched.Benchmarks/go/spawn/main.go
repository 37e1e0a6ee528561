// Command spawn: bursts of 100,000 short-lived goroutines that only signal a WaitGroup;
// nanoseconds per goroutine (spawn to the burst's Wait returning), and bytes allocated per
// goroutine (runtime.MemStats.TotalAlloc delta over the burst / 100,000).
package main

import (
	"runtime"
	"sync"
	"time"

	"gosched/benchmarks/bench"
)

const burst = 100_000

func main() {
	var allocPerG []float64
	runs := bench.Run(func() float64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var wg sync.WaitGroup
		start := time.Now()
		wg.Add(burst)
		for i := 0; i < burst; i++ {
			go func() { wg.Done() }()
		}
		wg.Wait()
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		allocPerG = append(allocPerG, float64(after.TotalAlloc-before.TotalAlloc)/burst)
		return float64(elapsed.Nanoseconds()) / burst
	})
	allocPerG = allocPerG[1:] // the warm-up burst creates the G objects the later bursts reuse
	bench.Print("spawn", "ns_per_goroutine", runs,
		bench.Field{Name: "alloc_bytes_per_goroutine", Value: bench.Median(allocPerG)},
		bench.Field{Name: "alloc_runs", Value: allocPerG},
		bench.Field{Name: "burst", Value: burst})
}
