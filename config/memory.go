package config

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultMemoryShare is the share of the memory available to the daemon
// (its cgroup's limit, else the machine's RAM) that daemon.memory_limit
// defaults to.
const DefaultMemoryShare = 0.5

// MemoryLimit is daemon.memory_limit: a size ("1536MiB", "2GB", "4G",
// "805306368"), or a percentage ("40%") of the memory available to the
// daemon; "" is DefaultMemoryShare of it.
type MemoryLimit string

var units = []struct {
	suffix string
	bytes  float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// MinMemoryLimit is the smallest memory budget: what archiving any file
// at all takes.
const MinMemoryLimit = 64 << 20

// Resolve returns the limit in bytes, given the memory available; a share
// of little memory is at least MinMemoryLimit.
func (m MemoryLimit) Resolve(available int64) (int64, error) {
	s := strings.TrimSpace(string(m))
	if s == "" {
		return max(int64(float64(available)*DefaultMemoryShare), MinMemoryLimit), nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(f > 0 && f <= 100) {
			return 0, fmt.Errorf("%q: a percentage must be in (0, 100]", s)
		}
		return max(int64(float64(available)*f/100), MinMemoryLimit), nil
	}
	num, mult := s, 1.0
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.bytes
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || !(f > 0) || f*mult > 1<<62 {
		return 0, fmt.Errorf("%q: want a size such as 2GiB, 1536MiB or 40%%", s)
	}
	if b := f * mult; b < MinMemoryLimit {
		return 0, fmt.Errorf("%q: at least 64MiB, to archive anything at all", s)
	}
	return int64(f * mult), nil
}
