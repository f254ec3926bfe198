module github.com/gwwatchd/gwwatchd

go 1.26.8

require (
	github.com/BurntSushi/toml v1.6.0
	golang.org/x/sync v0.25.0
	gonum.org/v1/gonum v0.17.0
	gonum.org/v1/hdf5 v0.0.0-20210714002203-8c5d23bc6946
)
