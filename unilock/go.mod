module unilock

go 1.26.0

require golang.org/x/mod v0.42.0

require (
	golang.org/x/build v0.0.0-20260918145456-c0ee0fbd16a3
	golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da
	golang.org/x/sys v0.50.0
	golang.org/x/tools v0.52.0
)

require (
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	golang.org/x/oauth2 v0.37.0 // indirect
)

tool golang.org/x/perf/cmd/benchstat
