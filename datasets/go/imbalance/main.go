// Command imbalance runs the imbalance workload once and prints one JSON line (see
// datasets/README.md). Run it with GODEBUG=schedtrace=10 to capture Go's scheduler state.
package main

import (
	"flag"
	"time"

	"gosched/datasets/workload"
)

func main() {
	p := workload.DefaultImbalance
	flag.IntVar(&p.Goroutines, "goroutines", p.Goroutines, "goroutines spawned per round, all by one goroutine")
	flag.IntVar(&p.Rounds, "rounds", p.Rounds, "rounds; each spawns the goroutines and waits for them")
	flag.DurationVar(&p.Work, "work", p.Work, "busy-work of each goroutine")
	workload.Main("imbalance", func() (time.Duration, int) { return workload.Imbalance(p), p.Rounds * p.Goroutines })
}
