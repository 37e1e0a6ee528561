// Command imbalance runs the imbalance workload once and prints one JSON line (see
// datasets/README.md). Run it with GODEBUG=schedtrace=10 to capture Go's scheduler state.
package main

import (
	"flag"
	"fmt"
	"time"

	"gosched/datasets/workload"
)

func main() {
	p := workload.DefaultImbalance
	flag.IntVar(&p.Rounds, "rounds", p.Rounds, "rounds; each spawns the goroutines and waits for them")
	flag.IntVar(&p.Goroutines, "goroutines", p.Goroutines, "goroutines spawned per round, all by one goroutine")
	flag.DurationVar(&p.Work, "work", p.Work, "busy-work of each goroutine")
	flag.Parse()

	start := time.Now()
	busy := workload.Imbalance(p)
	wall := time.Since(start)
	workload.PrintResult("imbalance", wall, busy, p.Rounds*p.Goroutines,
		fmt.Sprintf("-rounds %d -goroutines %d -work %v", p.Rounds, p.Goroutines, p.Work))
}
