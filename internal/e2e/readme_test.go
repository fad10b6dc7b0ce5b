package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README's shell blocks run as written, in order, in one bash process
// per AWS CLI (v1 on PATH, v2 at /usr/bin/aws), against the real binary:
// every ```sh block, except one preceded by
//
//	<!-- readme-test: skip REASON -->
//
// The reader's `go run ./cmd/hydrant [flags]` and `hydrant serve [flags]`
// start the built binary with those flags (replacing the one running on
// the same address, and returning once it is healthy, so `&` or not both
// work), on a free port that stands in for 127.0.0.1:4566 (the only change
// made to the text, with the fixed ports of the other servers moved for
// the second pass: readmeAddrs); servers on other addresses (an S3 store,
// cluster nodes) run side by side. The `aws` on PATH waits for the server its
// --endpoint-url names to be healthy. Each pass runs in a fresh directory holding a copy of examples/,
// with a HOME of its own.

// readmeBlock is one runnable shell block.
type readmeBlock struct {
	line int // of its opening fence
	text string
}

var skipMark = regexp.MustCompile(`^<!-- readme-test: skip (.+) -->$`)

// readmeBlocks reads the README's runnable sh blocks.
func readmeBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []readmeBlock
	var cur *readmeBlock
	var body strings.Builder
	skip, prev := false, ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			lang := strings.TrimSpace(strings.TrimPrefix(line, "```"))
			m := skipMark.FindStringSubmatch(strings.TrimSpace(prev))
			skip = m != nil
			if strings.HasPrefix(strings.TrimSpace(prev), "<!-- readme-test") && m == nil {
				t.Fatalf("README.md:%d: a readme-test mark must read <!-- readme-test: skip REASON -->", n-1)
			}
			cur = &readmeBlock{line: n}
			body.Reset()
			if lang != "sh" && lang != "bash" {
				skip = true
			}
		case cur != nil && strings.HasPrefix(line, "```"):
			if !skip {
				cur.text = body.String()
				blocks = append(blocks, *cur)
			}
			cur = nil
		case cur != nil:
			body.WriteString(line + "\n")
		}
		if strings.TrimSpace(line) != "" {
			prev = line
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// readmeWrappers are the stand-ins for `hydrant` and `go run ./cmd/hydrant`
// on the passes' PATH, and an `aws` that waits for the server a block
// started in the background.
const readmeHydrant = `#!/usr/bin/env bash
set -euo pipefail
case "${1:-}" in
  serve) shift ;;
  ""|-*) ;;
  *) exec "$HYDRANT_BIN" "$@" ;;
esac
args=("$@")
addr=$HYDRANT_ADDR
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --listen) addr=${args[i+1]} ;;
    --listen=*) addr=${args[i]#--listen=} ;;
  esac
done
case " $* " in *" --listen "*|*" --listen="*) ;; *) args+=(--listen "$addr") ;; esac
pidfile="$HYDRANT_PIDDIR/$addr.pid"
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile"); kill "$pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
fi
"$HYDRANT_BIN" serve "${args[@]}" >>"$HYDRANT_LOG" 2>&1 &
echo $! > "$pidfile"
for _ in $(seq 1200); do
  curl -fsk -o /dev/null "http://$addr/_hydrant/health" && exit 0
  curl -fsk -o /dev/null "https://$addr/_hydrant/health" && exit 0
  kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "hydrant exited; its log:" >&2; tail -20 "$HYDRANT_LOG" >&2; exit 1; }
  sleep 0.05
done
echo "hydrant on $addr not healthy after 60s" >&2; exit 1
`

const readmeGo = `#!/usr/bin/env bash
if [ "${1:-}" = run ] && [ "${2:-}" = ./cmd/hydrant ]; then shift 2; exec hydrant "$@"; fi
exec "$REAL_GO" "$@"
`

const readmeAWS = `#!/usr/bin/env bash
url=http://$HYDRANT_ADDR
prev=
for a in "$@"; do
  case "$a" in --endpoint-url=*) url=${a#--endpoint-url=} ;; esac
  [ "$prev" = --endpoint-url ] && url=$a
  prev=$a
done
for _ in $(seq 1200); do
  curl -fsk -o /dev/null "$url/_hydrant/health" && break
  sleep 0.05
done
exec "$REAL_AWS" "$@"
`

func TestREADME(t *testing.T) {
	t.Parallel()
	blocks := readmeBlocks(t, filepath.Join("..", "..", "README.md"))
	if len(blocks) < 5 {
		t.Fatalf("only %d runnable blocks in README.md", len(blocks))
	}
	for _, tool := range []string{"curl", "zip"} {
		requireTool(t, tool)
	}
	clis := map[string]string{"v1": requireTool(t, "aws"), "v2": "/usr/bin/aws"}
	if _, err := os.Stat(clis["v2"]); err != nil {
		if os.Getenv("HYDRANT_REQUIRE_TOOLS") != "" {
			t.Fatalf("AWS CLI v2 missing at /usr/bin/aws")
		}
		delete(clis, "v2")
	}
	for name, cli := range clis {
		// The passes run side by side, so each moves the README's fixed
		// ports (an S3 store on 9000, cluster nodes on 456N and 722N) to
		// a range of its own: v2 lowers their first digit (8000, 356N,
		// 622N).
		shift := name == "v2"
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runREADME(t, blocks, cli, shift)
		})
	}
}

// readmePort is a loopback address in a README block; its port may be
// the start of one completed by the shell (127.0.0.1:456$i).
var readmePort = regexp.MustCompile(`\b(127\.0\.0\.1|localhost):(\d+)`)

// readmeAddrs rewrites a block's loopback addresses: 4566 (hydrant's
// default) to addr, and with shift every other port's first digit lowered
// by one.
func readmeAddrs(text, addr string, shift bool) string {
	_, port, _ := strings.Cut(addr, ":")
	return readmePort.ReplaceAllStringFunc(text, func(m string) string {
		host, p, _ := strings.Cut(m, ":")
		switch {
		case p == "4566":
			p = port
		case shift && p[0] > '1':
			p = string(p[0]-1) + p[1:]
		}
		return host + ":" + p
	})
}

func runREADME(t *testing.T, blocks []readmeBlock, cli string, shift bool) {
	dir := t.TempDir()
	work, bin, home := filepath.Join(dir, "work"), filepath.Join(dir, "bin"), filepath.Join(dir, "home")
	for _, d := range []string{work, bin, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("cp", "-r", filepath.Join("..", "..", "examples"), work).CombinedOutput(); err != nil {
		t.Fatalf("copy examples: %v %s", err, out)
	}
	realGo, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"hydrant": readmeHydrant, "go": readmeGo, "aws": readmeAWS} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	addr := freePort(t)
	logPath, pidDir := filepath.Join(dir, "hydrant.log"), filepath.Join(dir, "pids")
	if err := os.MkdirAll(pidDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString("set -euo pipefail\ncd " + work + "\n")
	for i, b := range blocks {
		text := readmeAddrs(b.text, addr, shift)
		fmt.Fprintf(&script, "echo '>>> README.md:%d (block %d)' >&2\n%s\n", b.line, i+1, text)
	}
	script.WriteString("echo '>>> README done' >&2\n")
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = work
	// Its own process group, so a timeout kills what it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+home, "HYDRANT_BIN="+binary, "HYDRANT_ADDR="+addr, "HYDRANT_LOG="+logPath,
		"HYDRANT_PIDDIR="+pidDir, "REAL_GO="+realGo, "REAL_AWS="+cli,
		// hydrant's own clients (put, catalog infer) default to
		// 127.0.0.1:4566; this is the stand-in for it.
		"AWS_ENDPOINT_URL=http://"+addr,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=",
		"AWS_CONFIG_FILE="+filepath.Join(home, ".aws", "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, ".aws", "credentials"))
	defer func() {
		// Every server a block started, and whatever the script left.
		pids, _ := filepath.Glob(filepath.Join(pidDir, "*.pid"))
		for _, p := range pids {
			if b, err := os.ReadFile(p); err == nil {
				_ = exec.Command("kill", strings.TrimSpace(string(b))).Run()
			}
		}
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		err = fmt.Errorf("timed out")
	}
	if err != nil {
		logs, _ := os.ReadFile(logPath)
		t.Fatalf("README with %s: %v\n%s\n--- hydrant log (tail) ---\n%s", cli, err, out, tail(string(logs), 40))
	}
	if !strings.Contains(string(out), ">>> README done") {
		t.Fatalf("README did not finish:\n%s", out)
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestREADMEAddrs(t *testing.T) {
	t.Parallel()
	in := "--listen 127.0.0.1:456$i --s3-endpoint http://127.0.0.1:9000 http://localhost:4566/x 127.0.0.1:4566"
	for shift, want := range map[bool]string{
		false: "--listen 127.0.0.1:456$i --s3-endpoint http://127.0.0.1:9000 http://localhost:40123/x 127.0.0.1:40123",
		true:  "--listen 127.0.0.1:356$i --s3-endpoint http://127.0.0.1:8000 http://localhost:40123/x 127.0.0.1:40123",
	} {
		if got := readmeAddrs(in, "127.0.0.1:40123", shift); got != want {
			t.Errorf("shift %v:\n got %s\nwant %s", shift, got, want)
		}
	}
}
