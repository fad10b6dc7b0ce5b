package lambda

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// snapshot is everything needed to start instances of one version of a
// function's configuration and code. An update makes a new snapshot; the
// instances of the old one are retired as they come back to the pool.
type snapshot struct {
	name, arn, role, runtime, handler string
	kind                              runtimeKind
	memory                            int
	timeout                           time.Duration
	env                               map[string]string
	codePath                          string
	taskDir                           string // where the package is unpacked
	logGroup                          string // LoggingConfig.LogGroup

	mu       sync.Mutex
	unpacked bool
	refs     int  // instances started from it and not yet stopped
	retired  bool // a newer version replaced it, or the function is gone
}

// unpack extracts the package into taskDir unless it is there already.
func (sn *snapshot) unpack() error {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.unpacked {
		return nil
	}
	_ = os.RemoveAll(sn.taskDir)
	if err := os.MkdirAll(sn.taskDir, 0o755); err != nil {
		return fmt.Errorf("create code dir: %w", err)
	}
	if err := unzip(sn.codePath, sn.taskDir); err != nil {
		return err
	}
	sn.unpacked = true
	return nil
}

// hold counts an instance starting from sn; drop uncounts it. The
// unpacked code of a retired snapshot is removed when its last instance
// stops.
func (sn *snapshot) hold() {
	sn.mu.Lock()
	sn.refs++
	sn.mu.Unlock()
}

func (sn *snapshot) drop() {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	sn.refs--
	sn.removeLocked()
}

// retire marks sn as replaced.
func (sn *snapshot) retire() {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	sn.retired = true
	sn.removeLocked()
}

func (sn *snapshot) removeLocked() {
	if sn.retired && sn.refs == 0 && sn.unpacked {
		_ = os.RemoveAll(sn.taskDir)
		sn.unpacked = false
	}
}

// instance is one running process of a function (Lambda's execution
// environment) with its own loopback Runtime API listener, which serves
// only requests whose path starts with the instance's secret token. It
// serves one invocation at a time.
type instance struct {
	svc    *Service
	snap   *snapshot
	gen    uint64
	id     string
	stream string // log stream name
	tmpDir string
	token  string // the Runtime API secret only this instance's process knows
	addr   string // the Runtime API listener's host:port

	cmd  *exec.Cmd
	srv  *http.Server
	pipe *logPipe

	next       chan *invocation // handed to the runtime's GET /next
	ready      chan struct{}    // closed at the first GET /next: init is done
	readyOnce  sync.Once
	initFailed chan struct{} // closed when the runtime posts /init/error
	initOnce   sync.Once
	initErr    []byte
	exited     chan struct{} // closed when the process has exited
	exitErr    error
	stopCh     chan struct{}
	stopOnce   sync.Once

	creds        Credentials // the instance's temporary credentials
	started      time.Time
	initDuration time.Duration // set before ready is closed
	coldReported bool          // Init Duration already in a REPORT line

	mu       sync.Mutex
	current  *invocation
	maxRSSMB int
	lastUsed time.Time // guarded by the pool's lock
}

// startError is a process that could not be started; Lambda reports it as
// Runtime.InvalidEntrypoint.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }

// startInstance unpacks the code if needed, opens the instance's Runtime
// API listener and starts the process. It does not wait for the runtime to
// initialize: the first invocation does.
func (s *Service) startInstance(sn *snapshot, gen uint64, ring *logRing) (inst *instance, err error) {
	sn.hold()
	defer func() {
		if err != nil {
			sn.drop()
		}
	}()
	if err := sn.unpack(); err != nil {
		return nil, fmt.Errorf("unpack %s: %w", sn.name, err)
	}
	id := strings.ReplaceAll(uuid.NewString(), "-", "")
	inst = &instance{
		svc: s, snap: sn, gen: gen, id: id,
		stream:     time.Now().UTC().Format("2006/01/02") + "/[" + LatestVersion + "]" + id,
		tmpDir:     filepath.Join(s.runDir, "tmp", id),
		token:      newRuntimeToken(),
		next:       make(chan *invocation),
		ready:      make(chan struct{}),
		initFailed: make(chan struct{}),
		exited:     make(chan struct{}),
		stopCh:     make(chan struct{}),
		started:    time.Now(),
	}
	if inst.creds, err = s.instanceCredentials(sn); err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", sn.name, err)
	}
	if err := os.MkdirAll(inst.tmpDir, 0o755); err != nil {
		inst.revokeCredentials()
		return nil, fmt.Errorf("instance tmp dir: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		inst.revokeCredentials()
		_ = os.RemoveAll(inst.tmpDir)
		return nil, fmt.Errorf("runtime API listener: %w", err)
	}
	inst.addr = ln.Addr().String()
	inst.srv = &http.Server{Handler: inst.routes(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	go func() { _ = inst.srv.Serve(ln) }()
	inst.pipe, err = newLogPipe(sn.name, inst.stream, ring, s.log)
	if err == nil {
		inst.pipe.group, inst.pipe.sink = sn.logGroup, s.opts.LogSink
	}
	if err != nil {
		inst.revokeCredentials()
		_ = inst.srv.Close()
		_ = os.RemoveAll(inst.tmpDir)
		return nil, err
	}
	go inst.pipe.run()

	argv := s.interp.command(sn.kind, sn.taskDir)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = sn.taskDir
	cmd.Env = instanceEnv(os.Environ(), s.lambdaEnv(sn, inst, runtimeAddress(inst.addr, inst.token)), sn.env)
	cmd.Stdout, cmd.Stderr = inst.pipe.w, inst.pipe.w
	// Its own process group, so a timeout kills whatever the function
	// started too; and killed with hydrant if hydrant dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	inst.cmd = cmd
	if err := cmd.Start(); err != nil {
		inst.revokeCredentials()
		inst.pipe.closeWrite()
		_ = inst.srv.Close()
		_ = os.RemoveAll(inst.tmpDir)
		return nil, &startError{err: err}
	}
	go func() {
		inst.exitErr = cmd.Wait()
		close(inst.exited)
	}()
	s.log.Debug("function instance started", "function", sn.name, "instance", id, "pid", cmd.Process.Pid, "runtime", sn.runtime)
	return inst, nil
}

// lambdaEnv is what Lambda sets in an execution environment.
func (s *Service) lambdaEnv(sn *snapshot, inst *instance, api string) map[string]string {
	env := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          api,
		"_HANDLER":                        sn.handler,
		"LAMBDA_TASK_ROOT":                sn.taskDir,
		"LAMBDA_RUNTIME_DIR":              s.interp.dir,
		"AWS_LAMBDA_FUNCTION_NAME":        sn.name,
		"AWS_LAMBDA_FUNCTION_VERSION":     LatestVersion,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(sn.memory),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + sn.name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      inst.stream,
		"AWS_REGION":                      s.opts.Region,
		"AWS_DEFAULT_REGION":              s.opts.Region,
		"TZ":                              ":UTC",
		"TMPDIR":                          inst.tmpDir,
		// Temporary credentials with a session token, as Lambda gives
		// them, so SDKs configure themselves (see instanceCredentials).
		"AWS_ACCESS_KEY_ID":     inst.creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": inst.creds.SecretAccessKey,
		"AWS_SESSION_TOKEN":     inst.creds.SessionToken,
	}
	if e := executionEnv(sn.runtime); e != "" {
		env["AWS_EXECUTION_ENV"] = e
	}
	if s.opts.EndpointURL != "" {
		env["AWS_ENDPOINT_URL"] = s.opts.EndpointURL
	}
	return env
}

// kill SIGKILLs the instance's process group.
func (inst *instance) kill() {
	if inst.cmd != nil && inst.cmd.Process != nil {
		_ = syscall.Kill(-inst.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// alive reports whether the process is still running and usable.
func (inst *instance) alive() bool {
	select {
	case <-inst.exited:
		return false
	case <-inst.initFailed:
		return false
	case <-inst.stopCh:
		return false
	default:
		return true
	}
}

// stop kills the process group, waits for it, and releases the listener,
// the log pipe and the scratch directory. It is safe to call more than
// once and from any goroutine.
func (inst *instance) stop() {
	inst.stopOnce.Do(func() {
		close(inst.stopCh)
		inst.kill()
		select {
		case <-inst.exited:
		case <-time.After(5 * time.Second):
			inst.svc.log.Warn("function instance did not exit after SIGKILL", "function", inst.snap.name, "instance", inst.id)
		}
		inst.kill() // anything the function forked meanwhile
		_ = inst.srv.Close()
		inst.pipe.closeWrite()
		_ = os.RemoveAll(inst.tmpDir)
		inst.revokeCredentials()
		inst.snap.drop()
		inst.svc.log.Debug("function instance stopped", "function", inst.snap.name, "instance", inst.id)
	})
}

// exitMessage is Lambda's description of how the runtime exited.
func (inst *instance) exitMessage() string {
	var ee *exec.ExitError
	if errors.As(inst.exitErr, &ee) {
		return "Runtime exited with error: " + ee.String()
	}
	if inst.exitErr != nil {
		return "Runtime exited with error: " + inst.exitErr.Error()
	}
	return "Runtime exited without providing a reason"
}

// memoryUsedMB is the process's peak resident set (VmHWM), as Lambda's
// Max Memory Used; the last reading once the process is gone.
func (inst *instance) memoryUsedMB() int {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if inst.cmd == nil || inst.cmd.Process == nil {
		return inst.maxRSSMB
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(inst.cmd.Process.Pid) + "/status")
	if err != nil {
		return inst.maxRSSMB
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err == nil && (kb+1023)/1024 > inst.maxRSSMB {
				inst.maxRSSMB = (kb + 1023) / 1024
			}
		}
	}
	return inst.maxRSSMB
}
