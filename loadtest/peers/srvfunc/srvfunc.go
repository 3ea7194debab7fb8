// Package srvfunc stands in for the five helpers kittenhouse takes from
// github.com/vkcom/engine-go, which cannot be had here. Benchmark use only.
package srvfunc

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
)

var dialer net.Dialer

// CachingDialer dials directly; the benchmark uses numeric loopback addresses.
func CachingDialer(ctx context.Context, network, addr string) (net.Conn, error) {
	return dialer.DialContext(ctx, network, addr)
}

// LogRotate reopens the log file for appending.
func LogRotate(old *os.File, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0644)
	if err != nil {
		return old, err
	}
	if old != nil {
		old.Close()
	}
	return f, nil
}

// MemStat holds the resident set size in bytes.
type MemStat struct{ Res uint64 }

// GetMemStat reads VmRSS of the process (0: this one).
func GetMemStat(pid int) (*MemStat, error) {
	who := "self"
	if pid != 0 {
		who = strconv.Itoa(pid)
	}
	data, err := os.ReadFile("/proc/" + who + "/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseUint(f[1], 10, 64)
				return &MemStat{Res: kb * 1024}, nil
			}
		}
	}
	return nil, errors.New("no VmRSS")
}

// ChangeGroup and ChangeUser are not supported in the benchmark.
func ChangeGroup(string) error { return errors.New("not supported in the benchmark build") }
func ChangeUser(string) error  { return errors.New("not supported in the benchmark build") }
