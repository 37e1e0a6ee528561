module gosched/datasets

go 1.19
