// Command timersload: the workbench's timers-under-load workload in Go 1.19, for the comparison in
// notebooks/02-timers.ipynb. 1000 goroutines each sleep 20 times for a random duration in
// [1 ms, 50 ms], while GOMAXPROCS goroutines spin 1 ms at a time and never yield (they only check
// an atomic stop flag between spins); each sleeper measures its lateness as wake-up - due.
// With -load=false, the same without the spinners (the timers workload). Run: go run ./timersload
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

var sink uint64

func spin(d time.Duration) {
	start := time.Now()
	x := uint64(start.UnixNano()) | 1
	for {
		for i := 0; i < 1024; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		if time.Since(start) >= d {
			break
		}
	}
	atomic.AddUint64(&sink, x)
}

func main() {
	load := flag.Bool("load", true, "run GOMAXPROCS spinners")
	n := flag.Int("goroutines", 1000, "")
	sleeps := flag.Int("sleeps", 20, "")
	flag.Parse()
	var stop atomic.Bool
	var burners sync.WaitGroup
	if *load {
		for i := 0; i < runtime.GOMAXPROCS(0); i++ {
			burners.Add(1)
			go func() {
				for !stop.Load() {
					spin(time.Millisecond)
				}
				burners.Done()
			}()
		}
	}
	out := make([]int64, *n**sleeps)
	var wg sync.WaitGroup
	wg.Add(*n)
	start := time.Now()
	for i := 0; i < *n; i++ {
		go func(i int) {
			rng := rand.New(rand.NewSource(int64(i + 1)))
			for k := 0; k < *sleeps; k++ {
				d := time.Millisecond + time.Duration(rng.Float64()*float64(49*time.Millisecond))
				t0 := time.Now()
				time.Sleep(d)
				out[i**sleeps+k] = int64(time.Since(t0) - d)
			}
			wg.Done()
		}(i)
	}
	wg.Wait()
	wall := time.Since(start)
	stop.Store(true)
	burners.Wait()
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	pct := func(p float64) float64 {
		i := int(p/100*float64(len(out))+0.5) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(out) {
			i = len(out) - 1
		}
		return float64(out[i]) / 1e6
	}
	fmt.Printf("go1.19 gomaxprocs=%d load=%v: lateness p50 %.3f ms, p90 %.3f, p99 %.3f, max %.3f; wall %.0f ms\n",
		runtime.GOMAXPROCS(0), *load, pct(50), pct(90), pct(99), pct(100), float64(wall)/1e6)
}
