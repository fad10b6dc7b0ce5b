package buffer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

const crashChildEnv = "HYDRANT_BUFFER_CRASH_CHILD"

// crashRecord is the data of record r of batch i of appender g.
func crashRecord(g, i, r int) string {
	return fmt.Sprintf("g%d-i%d-r%d-%s", g, i, r, strings.Repeat("d", (g*7+i*3+r)%200))
}

// TestCrashKill runs appenders in a child process, SIGKILLs it mid-flight
// and checks that every append the child saw acknowledged is in the log
// after recovery, with its sequence numbers and data.
func TestCrashKill(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	for round := range 3 {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKill$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		type ack struct{ first, g, i, n int }
		var acks []ack
		sc := bufio.NewScanner(out)
		deadline := time.Now().Add(time.Duration(100+100*round) * time.Millisecond)
		for sc.Scan() {
			var a ack
			if _, err := fmt.Sscanf(sc.Text(), "ack %d %d %d %d", &a.first, &a.g, &a.i, &a.n); err == nil {
				acks = append(acks, a)
			}
			if time.Now().After(deadline) {
				break
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		if len(acks) == 0 {
			t.Fatal("child acknowledged nothing")
		}

		l := openLog(t, dir, Options{SegmentBytes: 256 << 10})
		bl := l.Backlog(1)
		got := make(map[uint64]string, bl.Records)
		for _, r := range readAll(t, l, bl.From, bl.To) {
			got[r.Seq] = string(r.Data)
		}
		for _, a := range acks {
			for r := range a.n {
				seq := uint64(a.first + r)
				if want := crashRecord(a.g, a.i, r); got[seq] != want {
					t.Fatalf("round %d: acknowledged seq %d is %q, want %q", round, seq, got[seq], want)
				}
			}
		}
		if s := mustAppend(t, l, "after crash"); s != bl.To {
			t.Fatalf("Append after crash = %d, want %d", s, bl.To)
		}
		t.Logf("round %d: %d acknowledged appends survived; log held %d records", round, len(acks), bl.Records)
		l.Close()
	}
}

// crashChild appends until killed, printing each acknowledgement.
func crashChild(dir string) {
	l, err := Open(dir, Options{SegmentBytes: 256 << 10})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				n := 1 + (g+i)%50
				var b Batch
				for r := range n {
					b.Add([]byte(crashRecord(g, i, r)))
				}
				first, err := l.Append(context.Background(), &b)
				if err != nil {
					fmt.Println("append:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Printf("ack %d %d %d %d\n", first, g, i, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
