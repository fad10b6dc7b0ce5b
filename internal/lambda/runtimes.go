package lambda

import (
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// The bootstraps hydrant ships for the interpreted runtimes: each runs the
// Runtime API loop around the user's handler, with no dependencies beyond
// the interpreter's standard library.
//
//go:embed bootstrap/bootstrap.py bootstrap/bootstrap.mjs
var bootstraps embed.FS

// runtimeKind is how hydrant starts a function's process.
type runtimeKind int

const (
	kindPython   runtimeKind = iota + 1 // python3 bootstrap.py
	kindNode                            // node bootstrap.mjs
	kindProvided                        // the package's own executable bootstrap
)

// runtimeKindOf classifies a Runtime value; ok is false for runtimes hydrant
// cannot run (java*, dotnet*, ruby*, go1.x, python2.7).
func runtimeKindOf(rt string) (runtimeKind, bool) {
	switch {
	case strings.HasPrefix(rt, "python3."):
		return kindPython, true
	case strings.HasPrefix(rt, "nodejs"):
		return kindNode, true
	case rt == "provided" || rt == "provided.al2" || rt == "provided.al2023":
		return kindProvided, true
	}
	return 0, false
}

// unsupportedRuntime is the error for a runtime hydrant cannot run.
func unsupportedRuntime(rt string) *awsproto.Error {
	return invalidParam("hydrant does not support the runtime %s: it runs python3.* functions with the machine's python3, nodejs* with its node, and provided.al2 or provided.al2023 (an executable bootstrap in the package, such as a Go function built with aws-lambda-go)", rt)
}

// interpreters are the programs that run python and node functions,
// resolved once at start.
type interpreters struct {
	python, node string
	dir          string // where the bootstraps were written
}

// setupRuntimes writes the embedded bootstraps into dir and resolves the
// interpreters (PATH lookups for "python3" and "node" unless paths are
// configured). A missing interpreter is not an error here: functions of
// that runtime fail to start, with a message that says why.
func setupRuntimes(dir, python, node string) (*interpreters, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create runtime dir: %w", err)
	}
	for _, n := range []string{"bootstrap.py", "bootstrap.mjs"} {
		b, err := bootstraps.ReadFile("bootstrap/" + n)
		if err != nil {
			return nil, fmt.Errorf("read embedded %s: %w", n, err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", n, err)
		}
	}
	if python == "" {
		python = "python3"
	}
	if node == "" {
		node = "node"
	}
	return &interpreters{python: lookPath(python), node: lookPath(node), dir: dir}, nil
}

// lookPath resolves a program name on PATH, keeping it as given when it is
// not found so that starting it reports the name.
func lookPath(p string) string {
	if r, err := exec.LookPath(p); err == nil {
		if abs, err := filepath.Abs(r); err == nil {
			return abs
		}
		return r
	}
	return p
}

// command is the program and arguments that start an instance of a
// function of kind k whose code is unpacked in taskDir.
func (in *interpreters) command(k runtimeKind, taskDir string) []string {
	switch k {
	case kindPython:
		// -u: output reaches the log as it is printed, and before the
		// response is posted, so it lands between START and END.
		return []string{in.python, "-u", filepath.Join(in.dir, "bootstrap.py")}
	case kindNode:
		return []string{in.node, filepath.Join(in.dir, "bootstrap.mjs")}
	}
	return []string{filepath.Join(taskDir, "bootstrap")}
}

// executionEnv is AWS_EXECUTION_ENV for a runtime, as Lambda sets it.
func executionEnv(rt string) string {
	if strings.HasPrefix(rt, "provided") {
		return ""
	}
	return "AWS_Lambda_" + rt
}

// reservedEnv are the variables Lambda sets itself and refuses in a
// function's Environment.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
	"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
	"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// instanceEnv builds an instance's environment: hydrant's own, without its
// AWS settings (the function must not inherit hydrant's credentials or
// endpoint), then what Lambda sets, then the function's variables.
func instanceEnv(base []string, lambdaVars map[string]string, fnVars map[string]string) []string {
	env := make([]string, 0, len(base)+len(lambdaVars)+len(fnVars))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "LAMBDA_") || strings.HasPrefix(k, "_HANDLER") || strings.HasPrefix(k, "_X_AMZN") {
			continue
		}
		if _, ok := lambdaVars[k]; ok {
			continue
		}
		if _, ok := fnVars[k]; ok {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range lambdaVars {
		if _, ok := fnVars[k]; ok && !reservedEnv[k] {
			continue // the function's own TZ, AWS_ENDPOINT_URL, ... win
		}
		env = append(env, k+"="+v)
	}
	for k, v := range fnVars {
		if !reservedEnv[k] {
			env = append(env, k+"="+v)
		}
	}
	return env
}
