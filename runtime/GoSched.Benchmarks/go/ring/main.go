// Command ring: 10,000 goroutines in a ring of unbuffered channels pass one token 1,000,000 hops;
// nanoseconds per hop. The ring is built once; each repetition sends a fresh token around.
package main

import (
	"time"

	"gosched/benchmarks/bench"
)

const (
	goroutines = 10_000
	hops       = 1_000_000
)

func main() {
	// Goroutine i receives on links[i] and forwards to links[i+1]; the token is the number of hops
	// still to go, and whoever receives 0 reports on done instead of forwarding.
	links := make([]chan int, goroutines)
	for i := range links {
		links[i] = make(chan int)
	}
	done := make(chan struct{})
	for i := range links {
		in, out := links[i], links[(i+1)%goroutines]
		go func() {
			for left := range in {
				if left == 0 {
					done <- struct{}{}
					continue
				}
				out <- left - 1
			}
		}()
	}

	runs := bench.Run(func() float64 {
		start := time.Now()
		links[0] <- hops
		<-done
		return float64(time.Since(start).Nanoseconds()) / hops
	})
	for _, c := range links {
		close(c)
	}
	bench.Print("ring", "ns_per_hop", runs, bench.Field{Name: "goroutines", Value: goroutines}, bench.Field{Name: "hops", Value: hops})
}
