package report

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine describes where the numbers were taken.
type Machine struct {
	CPU        string // model name from /proc/cpuinfo, or GOARCH
	NumCPU     int
	GOMAXPROCS int
	Go         string // runtime.Version
	OS         string // GOOS/GOARCH and kernel release where known
	Date       time.Time
}

// ThisMachine describes the machine the process runs on.
func ThisMachine() Machine {
	m := Machine{
		CPU:        cpuModel(),
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Go:         runtime.Version(),
		OS:         runtime.GOOS + "/" + runtime.GOARCH,
		Date:       time.Now().UTC(),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", kernel " + strings.TrimSpace(string(b))
	}
	return m
}

// String is the one-line description printed above the table.
func (m Machine) String() string {
	return fmt.Sprintf("%s; %d CPUs, GOMAXPROCS=%d; %s; %s; %s",
		m.CPU, m.NumCPU, m.GOMAXPROCS, m.Go, m.OS, m.Date.Format("2006-01-02 15:04 UTC"))
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH + " (CPU model unknown)"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH + " (CPU model unknown)"
}
