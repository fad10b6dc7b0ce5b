package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
// cluster nodes) run side by side. The `aws` on PATH waits for the server
// its --endpoint-url names to be healthy. Each pass runs in a fresh
// directory holding a copy of examples/, with a HOME of its own.

// mdBlock is one fenced block of a Markdown file.
type mdBlock struct {
	line int    // of its opening fence
	lang string // the fence's info string
	mark string // the last non-blank line before the fence
	text string // its lines, less the fence's indentation
}

var skipMark = regexp.MustCompile(`^<!-- readme-test: skip (.+) -->$`)

// markdownBlocks reads every fenced block of a Markdown file. A fence may
// be indented (a block inside a list item); the block's lines lose that
// indentation, as a reader copying the block gets them.
func markdownBlocks(t *testing.T, path string) []mdBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []mdBlock
	var cur *mdBlock
	var body strings.Builder
	indent, prev := "", ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			indent = line[:len(line)-len(trimmed)]
			cur = &mdBlock{line: n, lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```")), mark: strings.TrimSpace(prev)}
			body.Reset()
		case cur != nil && strings.HasPrefix(trimmed, "```"):
			cur.text = body.String()
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			if rest, ok := strings.CutPrefix(line, indent); ok {
				line = rest
			} else if strings.TrimSpace(line) == "" {
				line = ""
			}
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

// shellBlocks are the sh and bash blocks of a Markdown file, less those
// preceded by a readme-test skip mark.
func shellBlocks(t *testing.T, path string) []mdBlock {
	t.Helper()
	var out []mdBlock
	for _, b := range markdownBlocks(t, path) {
		if strings.HasPrefix(b.mark, "<!-- readme-test") {
			if skipMark.MatchString(b.mark) {
				continue
			}
			t.Fatalf("%s:%d: a readme-test mark must read <!-- readme-test: skip REASON -->", path, b.line-1)
		}
		if b.lang == "sh" || b.lang == "bash" {
			out = append(out, b)
		}
	}
	return out
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
# Wait for the server the call goes to (a block may have just started it
# in the background): its --endpoint-url, else hydrant's own address.
if [ -z "${HYDRANT_AWS_ENDPOINT:-}" ]; then
  urls="http://$HYDRANT_ADDR https://$HYDRANT_ADDR"
  prev=
  for a in "$@"; do
    case "$a" in --endpoint-url=*) urls=${a#--endpoint-url=} ;; esac
    [ "$prev" = --endpoint-url ] && urls=$a
    prev=$a
  done
  for _ in $(seq 1200); do
    for u in $urls; do curl -fsk -o /dev/null "$u/_hydrant/health" && break 2; done
    sleep 0.05
  done
fi
args=("$@")
if [ -n "${HYDRANT_AWS_ENDPOINT:-}" ]; then args=(--endpoint-url "$HYDRANT_AWS_ENDPOINT" "$@"); fi
if [ -z "${HYDRANT_AWS_CALLS:-}" ]; then exec "$REAL_AWS" "${args[@]}"; fi
"$REAL_AWS" "${args[@]}"
rc=$?
{ printf '%s' "$rc"; printf ' %q' "$@"; echo; } >>"$HYDRANT_AWS_CALLS"
exit $rc
`

func TestREADME(t *testing.T) {
	t.Parallel()
	blocks := shellBlocks(t, filepath.Join("..", "..", "README.md"))
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

func runREADME(t *testing.T, blocks []mdBlock, cli string, shift bool) {
	res := shellRun{
		file: "README.md", blocks: blocks, cli: cli, prelude: "set -euo pipefail", shiftPorts: shift,
		env: []string{
			// hydrant's own clients (put, catalog infer) default to
			// 127.0.0.1:4566; this is the stand-in for it.
			"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		},
		endpointEnv: true, copyExamples: true,
	}.run(t)
	if res.err != nil {
		t.Fatalf("README with %s: %v\n%s\n--- hydrant log (tail) ---\n%s", cli, res.err, res.out, tail(res.hydrantLog(), 40))
	}
	if !strings.Contains(res.out, ">>> README.md done") {
		t.Fatalf("README did not finish:\n%s", res.out)
	}
}

// shellRun is a Markdown file's shell blocks run in order by one bash
// process, in a fresh directory with a HOME of its own, with `aws` (the
// wrapper readmeAWS around cli), `hydrant` and `go run ./cmd/hydrant`
// (readmeHydrant) on its PATH. 127.0.0.1:4566 in the text is replaced with
// addr (a free port unless set). Each block is announced by a line
// ">>> FILE:LINE (block N)" and followed by ">>> exit STATUS" (with
// errexit in the prelude, a failing block ends the run instead).
type shellRun struct {
	file    string // for the markers
	blocks  []mdBlock
	cli     string // the aws CLI the wrapper runs
	addr    string // of a hydrant the test started; empty: a free port for the text's own
	prelude string // the script's first line (e.g. set -euo pipefail)
	env     []string
	// endpointEnv sets AWS_ENDPOINT_URL (which CLI v2 before 2.13 ignores);
	// endpointFlag has the aws wrapper pass --endpoint-url instead.
	endpointEnv, endpointFlag bool
	copyExamples              bool // a copy of examples/ in the working directory
	// logCalls has the aws wrapper record each call in shellResult.calls
	// (then it runs the CLI as a child, not by exec).
	logCalls bool
	// after holds commands of the test's own run after block i, such as
	// reading state the next blocks delete. They are not the text's.
	after map[int]string
	// files are written relative to HOME before the run.
	files   map[string]string
	timeout time.Duration // 10 minutes if zero
	// shiftPorts moves the text's other fixed loopback ports (readmeAddrs),
	// so that two runs of the same text can run side by side.
	shiftPorts bool
}

// shellResult is what a shellRun leaves.
type shellResult struct {
	out     string // stdout and stderr, interleaved
	err     error
	work    string // the working directory
	logPath string // of the hydrant the text started
	calls   []awsCall
	// blockOut and exit are each block's output and exit status, in order
	// (as far as the run got).
	blockOut []string
	exit     []int
}

// awsCall is one run of the aws wrapper: its arguments and exit status.
type awsCall struct {
	args []string
	code int
}

func (r shellResult) hydrantLog() string {
	b, _ := os.ReadFile(r.logPath)
	return string(b)
}

var blockMarker = regexp.MustCompile(`(?m)^>>> (?:\S+:\d+ \(block \d+\)|exit (\d+)|\S+ done)$`)

func (r shellRun) run(t *testing.T) shellResult {
	t.Helper()
	dir := t.TempDir()
	work, bin, home := filepath.Join(dir, "work"), filepath.Join(dir, "bin"), filepath.Join(dir, "home")
	for _, d := range []string{work, bin, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if r.copyExamples {
		if out, err := exec.Command("cp", "-r", filepath.Join("..", "..", "examples"), work).CombinedOutput(); err != nil {
			t.Fatalf("copy examples: %v %s", err, out)
		}
	}
	for name, body := range r.files {
		p := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
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
	addr := r.addr
	if addr == "" {
		addr = freePort(t)
	}
	res := shellResult{work: work, logPath: filepath.Join(dir, "hydrant.log")}
	pidDir, callsPath := filepath.Join(dir, "pids"), filepath.Join(dir, "aws-calls")
	if err := os.MkdirAll(pidDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString(r.prelude + "\ncd " + work + "\n")
	for i, b := range r.blocks {
		fmt.Fprintf(&script, "echo '>>> %s:%d (block %d)' >&2\n%s\necho \">>> exit $?\" >&2\n", r.file, b.line, i+1, readmeAddrs(b.text, addr, r.shiftPorts))
		if cmds, ok := r.after[i]; ok {
			script.WriteString(readmeAddrs(cmds, addr, r.shiftPorts) + "\n")
		}
	}
	fmt.Fprintf(&script, "echo '>>> %s done' >&2\n", r.file)
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = work
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	env := []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home, "HYDRANT_BIN=" + binary, "HYDRANT_ADDR=" + addr, "HYDRANT_LOG=" + res.logPath,
		"HYDRANT_PIDDIR=" + pidDir, "REAL_GO=" + realGo, "REAL_AWS=" + r.cli,
		"AWS_PAGER=", "AWS_CONFIG_FILE=" + filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, ".aws", "credentials"),
	}
	if r.endpointEnv {
		env = append(env, "AWS_ENDPOINT_URL=http://"+addr)
	}
	if r.endpointFlag {
		env = append(env, "HYDRANT_AWS_ENDPOINT=http://"+addr)
	}
	if r.logCalls {
		env = append(env, "HYDRANT_AWS_CALLS="+callsPath)
	}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "PATH=") && !strings.HasPrefix(e, "HOME=") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, r.env...)
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
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	timeout := r.timeout
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case res.err = <-done:
	case <-time.After(timeout):
		// The whole process group: bash, and whatever it started.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		res.err = fmt.Errorf("timed out after %s", timeout)
	}
	res.out = out.String()
	cur := -1
	last := 0
	for _, m := range blockMarker.FindAllStringSubmatchIndex(res.out, -1) {
		if cur >= 0 {
			res.blockOut[cur] += res.out[last:m[0]]
		}
		last = m[1]
		switch {
		case m[2] >= 0:
			code, _ := strconv.Atoi(res.out[m[2]:m[3]])
			res.exit = append(res.exit, code)
			cur = -1
		case strings.Contains(res.out[m[0]:m[1]], "(block "):
			res.blockOut = append(res.blockOut, "")
			cur = len(res.blockOut) - 1
		default:
			cur = -1
		}
	}
	if b, err := os.ReadFile(callsPath); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			words, err := shellWords(line)
			if err != nil || len(words) == 0 {
				t.Fatalf("aws call log %q: %v", line, err)
			}
			code, _ := strconv.Atoi(words[0])
			res.calls = append(res.calls, awsCall{args: words[1:], code: code})
		}
	}
	return res
}

// shellWords splits a line of bash's printf %q words back into the words.
func shellWords(line string) ([]string, error) {
	out, err := exec.Command("bash", "-c", `eval "w=($1)"; printf '%s\0' "${w[@]}"`, "bash", line).Output()
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"), nil
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
