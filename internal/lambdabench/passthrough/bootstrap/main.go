// Command bootstrap is the benchmark's pass-through function as a
// provided.al2023 package: GOOS=linux CGO_ENABLED=0 go build -o bootstrap.
//
// With PASSTHROUGH_CPUPROFILE=DIR in its environment, each instance writes a
// CPU profile of its first PASSTHROUGH_PROFILE_SECONDS (default 10) to
// DIR/<pid>.cpu: the function's side of the benchmark's profile.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/hydrant-io/hydrant/internal/lambdabench/passthrough"
)

func main() {
	if dir := os.Getenv("PASSTHROUGH_CPUPROFILE"); dir != "" {
		if err := profile(dir); err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
		}
	}
	lambda.Start(passthrough.Handle)
}

// profile profiles the process for a while in the background.
func profile(dir string) error {
	secs, err := strconv.Atoi(os.Getenv("PASSTHROUGH_PROFILE_SECONDS"))
	if err != nil || secs <= 0 {
		secs = 10
	}
	f, err := os.Create(filepath.Join(dir, strconv.Itoa(os.Getpid())+".cpu"))
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return err
	}
	time.AfterFunc(time.Duration(secs)*time.Second, func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	})
	return nil
}
