// Package workload holds the two workloads whose schedtrace captures live in datasets/go/captures,
// with the same parameters as the C# runtime's workload catalogue, so that a notebook can put
// Go's run-queue depths beside ours for the same run.
//
// Both workloads are CPU-bound busy-work measured on the monotonic clock: a worker does not finish
// after a number of loop iterations but after a duration, like the C# runtime's Go.Work(duration).
package workload

import (
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

// spinBatch is how many arithmetic steps Spin takes between two clock reads: about 1.7 µs on the
// machine the captures were made on (1.7 ns a step), so a worker overshoots its duration by at
// most that much, and the clock reads (about 28 ns each) cost under 2% of the work.
const spinBatch = 1024

// sink keeps the arithmetic alive so the compiler cannot drop the loop.
var sink uint64

// Spin burns CPU for d: a xorshift step in a loop, with time.Since checked every spinBatch steps.
// The loop has no function calls, so other goroutines get the P only through Go's asynchronous
// preemption (sysmon, after 10 ms), as with any real CPU-bound goroutine.
func Spin(d time.Duration) {
	start := time.Now()
	x := uint64(88172645463325252)
	for {
		for i := 0; i < spinBatch; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		if time.Since(start) >= d {
			break
		}
	}
	sink += x
}

// FanoutParams are the fanout workload's knobs; DefaultFanout holds their defaults.
type FanoutParams struct {
	Rounds  int
	Workers int
	Unit    time.Duration
}

var DefaultFanout = FanoutParams{Rounds: 3, Workers: 256, Unit: 50 * time.Microsecond}

// FanoutWork is the busy-work of worker i: unit << (i % 8), so 1x to 128x the unit. The work is
// very unequal, and the long workers land on whichever P spawned them unless others steal them.
func FanoutWork(unit time.Duration, i int) time.Duration { return unit << (i % 8) }

// Fanout runs the fanout workload on the calling goroutine: for each round, spawn the workers and
// wait for all of them with a WaitGroup. It returns the busy-work requested in total (all rounds),
// which is what an ideal scheduler spreads evenly over GOMAXPROCS.
func Fanout(p FanoutParams) (busy time.Duration) {
	for r := 0; r < p.Rounds; r++ {
		var wg sync.WaitGroup
		wg.Add(p.Workers)
		for i := 0; i < p.Workers; i++ {
			d := FanoutWork(p.Unit, i)
			busy += d
			go func() {
				Spin(d)
				wg.Done()
			}()
		}
		wg.Wait()
	}
	return busy
}

// ImbalanceParams are the imbalance workload's knobs; DefaultImbalance holds their defaults.
type ImbalanceParams struct {
	Rounds     int
	Goroutines int
	Work       time.Duration
}

var DefaultImbalance = ImbalanceParams{Rounds: 3, Goroutines: 1000, Work: 200 * time.Microsecond}

// Imbalance runs the imbalance workload on the calling goroutine: for each round it spawns every
// worker itself, so they all start on its P (runnext, then the 256-slot local ring, the overflow
// going to the global queue), and the other Ps get work only by stealing it or by taking it from
// the global queue. Each round is waited for with a WaitGroup. It returns the busy-work requested
// in total.
func Imbalance(p ImbalanceParams) (busy time.Duration) {
	for r := 0; r < p.Rounds; r++ {
		var wg sync.WaitGroup
		wg.Add(p.Goroutines)
		for i := 0; i < p.Goroutines; i++ {
			busy += p.Work
			go func() {
				Spin(p.Work)
				wg.Done()
			}()
		}
		wg.Wait()
	}
	return busy
}

// result is the JSON line each capture program prints when it is done.
type result struct {
	Workload   string  `json:"workload"`
	Gomaxprocs int     `json:"gomaxprocs"`
	WallMs     float64 `json:"wall_ms"`
	Goroutines int     `json:"goroutines"` // workers spawned, all rounds
	BusyMs     float64 `json:"busy_ms"`    // busy-work requested, all rounds
	Params     string  `json:"params"`     // every flag with its value
}

// Main is a capture program's main after its flags are declared: it parses them, times run (which
// returns the busy-work it requested and the goroutines it spawned) and prints the JSON line, whose
// params are the flags as given.
func Main(name string, run func() (busy time.Duration, goroutines int)) {
	flag.Parse()
	start := time.Now()
	busy, goroutines := run()
	wall := time.Since(start)

	var params []string
	flag.VisitAll(func(f *flag.Flag) { params = append(params, fmt.Sprintf("-%s %s", f.Name, f.Value)) })
	line, err := json.Marshal(result{
		Workload:   name,
		Gomaxprocs: runtime.GOMAXPROCS(0),
		WallMs:     float64(wall) / 1e6,
		Goroutines: goroutines,
		BusyMs:     float64(busy) / 1e6,
		Params:     strings.Join(params, " "),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(line))
}
