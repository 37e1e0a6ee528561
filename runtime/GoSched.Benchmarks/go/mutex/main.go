// Command mutex: 2 x GOMAXPROCS goroutines share one sync.Mutex; each makes its share of 1,000,000
// lock / counter++ / unlock pairs, with 20 xorshift steps outside the lock after each unlock;
// nanoseconds per pair (wall time / pairs), and bytes allocated per pair (runtime.MemStats.TotalAlloc
// delta over the repetition / pairs). The counter must end at the number of pairs (exit 1 if not).
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gosched/benchmarks/bench"
)

const (
	pairs          = 1_000_000
	goroutinesPerP = 2
	workIterations = 20
	seed           = 88172645463325252
)

// sink takes each worker's local result, so that its work is not dead code.
var sink uint64

// work is the local computation outside the lock: workIterations xorshift64 steps.
func work(x uint64) uint64 {
	for i := 0; i < workIterations; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func run(goroutines int) (nsPerLock, allocPerLock float64) {
	var mu sync.Mutex
	var counter int64
	var wg sync.WaitGroup
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	wg.Add(goroutines)
	for i := 0; i < goroutines; i++ {
		n := pairs / goroutines // an even share, the first pairs % goroutines one more
		if i < pairs%goroutines {
			n++
		}
		go func(n int, x uint64) {
			for j := 0; j < n; j++ {
				mu.Lock()
				counter++
				mu.Unlock()
				x = work(x)
			}
			atomic.AddUint64(&sink, x)
			wg.Done()
		}(n, seed+uint64(i))
	}
	wg.Wait()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if counter != pairs {
		fmt.Fprintf(os.Stderr, "mutex: counter is %d after %d lock/increment/unlock pairs: the lock let two in at once\n", counter, pairs)
		os.Exit(1)
	}
	return float64(elapsed.Nanoseconds()) / pairs, float64(after.TotalAlloc-before.TotalAlloc) / pairs
}

func main() {
	goroutines := goroutinesPerP * runtime.GOMAXPROCS(0)
	var allocPerLock []float64
	runs := bench.Run(func() float64 {
		ns, alloc := run(goroutines)
		allocPerLock = append(allocPerLock, alloc)
		return ns
	})
	allocPerLock = allocPerLock[1:] // the warm-up
	bench.Print("mutex", "ns_per_lock", runs,
		bench.Field{Name: "alloc_bytes_per_lock", Value: bench.Median(allocPerLock)},
		bench.Field{Name: "alloc_runs", Value: allocPerLock},
		bench.Field{Name: "goroutines", Value: goroutines},
		bench.Field{Name: "pairs", Value: pairs},
		bench.Field{Name: "work_iterations", Value: workIterations})
}
