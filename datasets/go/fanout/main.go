// Command fanout runs the fanout workload once and prints one JSON line (see datasets/README.md).
// Run it with GODEBUG=schedtrace=10 to capture Go's scheduler state while it runs.
package main

import (
	"flag"
	"time"

	"gosched/datasets/workload"
)

func main() {
	p := workload.DefaultFanout
	flag.IntVar(&p.Rounds, "rounds", p.Rounds, "rounds; each spawns the workers and waits for them")
	flag.IntVar(&p.Workers, "workers", p.Workers, "goroutines spawned per round")
	flag.DurationVar(&p.Unit, "unit", p.Unit, "worker i spins for unit << (i % 8)")
	workload.Main("fanout", func() (time.Duration, int) { return workload.Fanout(p), p.Rounds * p.Workers })
}
