// Command parked: bytes per goroutine blocked in a channel receive. Each repetition starts 100,000
// more goroutines that block on one channel and keeps them blocked, so every repetition measures
// freshly created goroutines (a released goroutine's G and stack would be reused by the next one).
// The metric is the growth of runtime.MemStats HeapInuse+StackInuse (G objects, stacks, sudogs,
// closures) over the batch, after a GC, per goroutine; the growth of Sys (memory obtained from the
// OS) is reported beside it.
package main

import (
	"runtime"
	"sync"
	"time"

	"gosched/benchmarks/bench"
)

const batch = 100_000

func inUse() (heapAndStack, sys uint64) {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse, m.Sys
}

func main() {
	block := make(chan struct{})
	var sysPerG []float64
	runs := bench.Run(func() float64 {
		inUse0, sys0 := inUse()
		var started sync.WaitGroup
		started.Add(batch)
		for i := 0; i < batch; i++ {
			go func() {
				started.Done()
				<-block
			}()
		}
		started.Wait()
		// The last few may be between Done and the receive; give them time to park.
		time.Sleep(20 * time.Millisecond)
		inUse1, sys1 := inUse()
		sysPerG = append(sysPerG, float64(sys1-sys0)/batch)
		return float64(inUse1-inUse0) / batch
	})
	close(block)
	sysPerG = sysPerG[1:]
	bench.Print("parked", "bytes_per_parked_goroutine", runs,
		bench.Field{Name: "measure", Value: "HeapInuse+StackInuse growth per goroutine"},
		bench.Field{Name: "sys_bytes_per_parked_goroutine", Value: bench.Median(sysPerG)},
		bench.Field{Name: "sys_runs", Value: sysPerG},
		bench.Field{Name: "batch", Value: batch})
}
