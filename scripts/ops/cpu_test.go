package main

import (
	"os"
	"testing"
)

func TestParseProcStatCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       float64
		wantErr    bool
	}{
		{"java", "4242 (java) S 1 4242 4242 0 -1 4194560 9 0 0 0 1234 66 0 0 20 0 51 0 100 9000000 200", 13, false},
		{"name with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 250 50 0 0 20 0 1 0 5 100 20", 3, false},
		{"truncated", "7 (x) R 1 7 7", 0, true},
		{"no name", "garbage", 0, true},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 ab 50 0 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStatCPU(tt.stat)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseProcStatCPU = %v, %v; want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCPUMeter(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Fatalf("the benchmark's emulator CPU needs /proc: %v", err)
	}
	s, err := cpuMeter{pid: os.Getpid()}.sample()
	if err != nil {
		t.Fatal(err)
	}
	if s.client <= 0 || s.other < 0 {
		t.Errorf("sample %+v", s)
	}
	if _, err := (cpuMeter{pid: 1 << 30}).sample(); err == nil {
		t.Error("no error for a process that does not exist")
	}
}
