package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// cpuMeter reads the CPU time (user + system) used so far by this process
// and, when pid is set, by the process pid (the local emulator), so a
// benchmark can report where the work of a measurement went.
type cpuMeter struct {
	pid int // 0: this process only
}

// cpuSample is the CPU time used up to one moment, in seconds.
type cpuSample struct {
	client, other float64
}

// sample reads both clocks. Errors: the other process's stat file cannot
// be read or parsed (it exited, or this is not Linux).
func (m cpuMeter) sample() (cpuSample, error) {
	var s cpuSample
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, fmt.Errorf("getrusage: %w", err)
	}
	s.client = tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
	if m.pid == 0 {
		return s, nil
	}
	other, err := procCPUSeconds(m.pid)
	if err != nil {
		return s, err
	}
	s.other = other
	return s, nil
}

func tvSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

// procCPUSeconds is utime + stime of process pid from /proc/pid/stat.
func procCPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("emulator cpu: %w", err)
	}
	return parseProcStatCPU(string(b))
}

// parseProcStatCPU returns utime + stime, in seconds, of a /proc/pid/stat
// line. The command name (field 2) may contain spaces and parentheses;
// the fields after its last closing parenthesis start with field 3
// (state), so utime (14) and stime (15) are at 11 and 12.
func parseProcStatCPU(s string) (float64, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("emulator cpu: unexpected stat %.40q", s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("emulator cpu: unexpected stat %.40q", s)
	}
	var ticks float64
	for _, v := range f[11:13] {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("emulator cpu: %w", err)
		}
		ticks += n
	}
	return ticks / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc/pid/stat's times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100
