module gosched/benchmarks

go 1.19

// The fanout benchmark runs the very workload that made the schedtrace captures in datasets/.
require gosched/datasets v0.0.0

replace gosched/datasets => ../../../datasets/go
