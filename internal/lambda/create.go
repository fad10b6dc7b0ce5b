package lambda

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hydrant-io/hydrant/internal/awsproto"
	hstate "github.com/hydrant-io/hydrant/internal/state"
)

// unsupportedCreate are CreateFunction/UpdateFunctionConfiguration members
// that would change what a function is or can reach; hydrant refuses them
// by name rather than ignore them. Everything else is accepted (and kept
// when the configuration returns it).
var unsupportedCreate = []string{"Layers", "FileSystemConfigs", "ImageConfig", "CodeSigningConfigArn", "CapacityProviderConfig", "DurableConfig", "TenancyConfig"}

// refuseUnsupported names the unsupported members present in a request.
func refuseUnsupported(doc map[string]json.RawMessage) *awsproto.Error {
	var bad []string
	for _, k := range unsupportedCreate {
		v, ok := doc[k]
		if !ok {
			continue
		}
		switch strings.TrimSpace(string(v)) {
		case "null", "[]", "{}", `""`:
			continue
		}
		bad = append(bad, k)
	}
	if v, ok := doc["SnapStart"]; ok && strings.Contains(string(v), "PublishedVersions") {
		bad = append(bad, "SnapStart")
	}
	if len(bad) == 0 {
		return nil
	}
	return invalidParam("hydrant does not support %s", strings.Join(bad, ", "))
}

// checkRuntime refuses packages and runtimes hydrant cannot run.
func checkRuntime(rt, handler string) *awsproto.Error {
	if rt == "" || handler == "" {
		return invalidParam("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if _, ok := runtimeKindOf(rt); !ok {
		return unsupportedRuntime(rt)
	}
	return nil
}

// checkLimits applies the limits Lambda enforces beyond its model.
func checkLimits(timeout, memory int) *awsproto.Error {
	var msgs []string
	if timeout > 900 {
		msgs = append(msgs, awsproto.Violation(fmt.Sprintf("'%d'", timeout), "timeout", "Member must have value less than or equal to 900"))
	}
	if memory > 10240 {
		msgs = append(msgs, awsproto.Violation(fmt.Sprintf("'%d'", memory), "memorySize", "Member must have value less than or equal to 10240"))
	}
	if len(msgs) > 0 {
		return awsproto.ValidationError(msgs...)
	}
	return nil
}

// checkEnv refuses reserved variables and environments over Lambda's 4 KB.
func checkEnv(vars map[string]string) *awsproto.Error {
	var reserved []string
	for k := range vars {
		if reservedEnv[k] {
			reserved = append(reserved, k)
		}
	}
	if len(reserved) > 0 {
		sort.Strings(reserved)
		return invalidParam("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(reserved, ", "))
	}
	if b, _ := json.Marshal(vars); len(b) > 4096 {
		return invalidParam("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %s", b)
	}
	return nil
}

// checkCode checks a package given as ZipFile, and refuses the sources
// hydrant cannot fetch.
func checkCode(zip []byte, s3Bucket, imageURI string) *awsproto.Error {
	switch {
	case imageURI != "":
		return invalidParam("hydrant does not support PackageType Image: create the function from a .zip package (Code.ZipFile)")
	case len(zip) == 0 && s3Bucket != "":
		return invalidParam("hydrant does not support Code.S3Bucket and Code.S3Key: upload the package with ZipFile (aws lambda ... --zip-file fileb://package.zip)")
	case len(zip) == 0:
		return invalidParam("Please provide a source for function code.")
	}
	if err := checkZip(zip); err != nil {
		if errors.Is(err, errBadZip) {
			return invalidParam("Could not unzip uploaded file. Please check your file, then try to upload again.")
		}
		return invalidParam("Unzipped size must be smaller than %d bytes", maxUnzipped)
	}
	return nil
}

func codeSha256(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// create makes a function from a validated CreateFunction request.
func (s *Service) create(in *createRequest, doc map[string]json.RawMessage) (*FunctionConfiguration, error) {
	ref, ok := parseFunctionName(in.FunctionName)
	if !ok || ref.Qualifier != "" {
		return nil, invalidParam("Invalid function name: %s", in.FunctionName)
	}
	if !s.ours(ref) {
		return nil, invalidParam("The function %s is not in hydrant's region %s and account %s", in.FunctionName, s.opts.Region, s.opts.AccountID)
	}
	if e := refuseUnsupported(doc); e != nil {
		return nil, e
	}
	if in.PackageType == "Image" {
		return nil, invalidParam("hydrant does not support PackageType Image: create the function from a .zip package (PackageType Zip, Code.ZipFile)")
	}
	if e := checkRuntime(in.Runtime, in.Handler); e != nil {
		return nil, e
	}
	if e := checkCode(in.Code.ZipFile, in.Code.S3Bucket, in.Code.ImageUri); e != nil {
		return nil, e
	}
	name := ref.Name
	c := FunctionConfiguration{
		FunctionName: name, FunctionArn: functionARN(s.opts.Region, s.opts.AccountID, name),
		Runtime: in.Runtime, Role: in.Role, Handler: in.Handler,
		CodeSize: int64(len(in.Code.ZipFile)), CodeSha256: codeSha256(in.Code.ZipFile),
		Timeout: 3, MemorySize: 128, Version: LatestVersion,
		TracingConfig: TracingConfig{Mode: "PassThrough"}, PackageType: "Zip",
		Architectures: []string{"x86_64"}, EphemeralStorage: EphemeralStorage{Size: 512},
		SnapStart:     SnapStartResponse{ApplyOn: "None", OptimizationStatus: "Off"},
		LoggingConfig: LoggingConfig{LogFormat: "Text", LogGroup: "/aws/lambda/" + name},
	}
	if in.Description != nil {
		c.Description = *in.Description
	}
	if in.Timeout != nil {
		c.Timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		c.MemorySize = *in.MemorySize
	}
	if e := checkLimits(c.Timeout, c.MemorySize); e != nil {
		return nil, e
	}
	if in.Environment != nil && len(in.Environment.Variables) > 0 {
		if e := checkEnv(in.Environment.Variables); e != nil {
			return nil, e
		}
		c.Environment = &EnvironmentResponse{Variables: in.Environment.Variables}
	}
	if in.TracingConfig != nil && in.TracingConfig.Mode != "" {
		c.TracingConfig = *in.TracingConfig
	}
	if len(in.Architectures) > 0 {
		c.Architectures = in.Architectures
	}
	if in.EphemeralStorage != nil {
		c.EphemeralStorage = *in.EphemeralStorage
	}
	if in.LoggingConfig != nil {
		mergeLogging(&c.LoggingConfig, in.LoggingConfig)
	}
	c.DeadLetterConfig = in.DeadLetterConfig
	c.State, c.LastUpdateStatus = "Active", "Successful"

	// Reserve the name while the package is written outside the lock.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, serviceError()
	}
	if _, exists := s.fns[name]; exists || s.pending[name] {
		s.mu.Unlock()
		return nil, conflict(name)
	}
	s.pending[name] = true
	s.mu.Unlock()
	rec, err := s.persistNew(c, in.Tags, in.Code.ZipFile)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, name)
	if err != nil {
		return nil, err
	}
	s.fns[name] = s.newFunction(rec)
	s.log.Info("function created", "function", name, "runtime", c.Runtime, "code_size", c.CodeSize)
	return &rec.Config, nil
}

func (s *Service) persistNew(c FunctionConfiguration, tags map[string]string, zip []byte) (*record, error) {
	now := time.Now()
	c.LastModified, c.RevisionId = formatLastModified(now), uuid.NewString()
	file, err := s.store.writeCode(c.FunctionName, zip)
	if err == nil {
		rec := &record{Config: c, Tags: tags, CodeFile: file}
		if err = s.store.save(rec, true); err == nil {
			return rec, nil
		}
		if errors.Is(err, hstate.ErrConflict) {
			// Created on another node of the cluster a moment ago.
			return nil, conflict(c.FunctionName)
		}
	}
	_ = s.store.remove(c.FunctionName)
	return nil, fmt.Errorf("create function %s: %w", c.FunctionName, err)
}

func mergeLogging(dst, src *LoggingConfig) {
	if src.LogFormat != "" {
		dst.LogFormat = src.LogFormat
	}
	if src.LogGroup != "" {
		dst.LogGroup = src.LogGroup
	}
	dst.ApplicationLogLevel, dst.SystemLogLevel = src.ApplicationLogLevel, src.SystemLogLevel
}

// commit replaces fn's record with the result of change, applied to a
// copy of the current one, saves it, and retires instances of the old
// version. revision, when set, must match the current RevisionId.
func (s *Service) commit(fn *function, revision string, change func(*record) *awsproto.Error) (*FunctionConfiguration, error) {
	s.mu.Lock()
	if s.fns[fn.rec.Config.FunctionName] != fn || s.closed {
		s.mu.Unlock()
		return nil, notFound(fn.rec.Config.FunctionArn)
	}
	if revision != "" && revision != fn.rec.Config.RevisionId {
		s.mu.Unlock()
		return nil, preconditionFailed()
	}
	rec := *fn.rec
	if e := change(&rec); e != nil {
		s.mu.Unlock()
		return nil, e
	}
	rec.Config.LastModified, rec.Config.RevisionId = formatLastModified(time.Now()), uuid.NewString()
	rec.Config.State, rec.Config.LastUpdateStatus = "Active", "Successful"
	if err := s.store.save(&rec, false); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	fn.rec = &rec
	sn := s.snapshotOf(&rec)
	s.mu.Unlock()
	fn.pool.reconfigure(sn, s.opts.Concurrency)
	return &rec.Config, nil
}

func (s *Service) updateConfig(fn *function, in *updateConfigRequest, doc map[string]json.RawMessage) (*FunctionConfiguration, error) {
	if e := refuseUnsupported(doc); e != nil {
		return nil, e
	}
	return s.commit(fn, in.RevisionId, func(rec *record) *awsproto.Error {
		c := &rec.Config
		if in.Role != nil {
			c.Role = *in.Role
		}
		if in.Handler != nil {
			c.Handler = *in.Handler
		}
		if in.Runtime != nil {
			c.Runtime = *in.Runtime
		}
		if e := checkRuntime(c.Runtime, c.Handler); e != nil {
			return e
		}
		if in.Description != nil {
			c.Description = *in.Description
		}
		if in.Timeout != nil {
			c.Timeout = *in.Timeout
		}
		if in.MemorySize != nil {
			c.MemorySize = *in.MemorySize
		}
		if e := checkLimits(c.Timeout, c.MemorySize); e != nil {
			return e
		}
		if in.Environment != nil {
			if e := checkEnv(in.Environment.Variables); e != nil {
				return e
			}
			c.Environment = nil
			if len(in.Environment.Variables) > 0 {
				c.Environment = &EnvironmentResponse{Variables: in.Environment.Variables}
			}
		}
		if in.TracingConfig != nil && in.TracingConfig.Mode != "" {
			c.TracingConfig = *in.TracingConfig
		}
		if in.EphemeralStorage != nil {
			c.EphemeralStorage = *in.EphemeralStorage
		}
		if in.LoggingConfig != nil {
			mergeLogging(&c.LoggingConfig, in.LoggingConfig)
		}
		if in.DeadLetterConfig != nil {
			c.DeadLetterConfig = in.DeadLetterConfig
		}
		return nil
	})
}

func (s *Service) updateCode(fn *function, in *updateCodeRequest) (*FunctionConfiguration, error) {
	if e := checkCode(in.ZipFile, in.S3Bucket, in.ImageUri); e != nil {
		return nil, e
	}
	if in.DryRun {
		c := fn.rec.Config
		c.CodeSize, c.CodeSha256 = int64(len(in.ZipFile)), codeSha256(in.ZipFile)
		return &c, nil
	}
	name := fn.rec.Config.FunctionName
	file, err := s.store.writeCode(name, in.ZipFile)
	if err != nil {
		return nil, err
	}
	cfg, err := s.commit(fn, in.RevisionId, func(rec *record) *awsproto.Error {
		rec.CodeFile = file
		rec.Config.CodeSize, rec.Config.CodeSha256 = int64(len(in.ZipFile)), codeSha256(in.ZipFile)
		if len(in.Architectures) > 0 {
			rec.Config.Architectures = in.Architectures
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.store.removeStale(name, file)
	return cfg, nil
}

// delete removes a function: its instances are stopped, then its files.
func (s *Service) delete(fn *function, name string) error {
	s.mu.Lock()
	if s.fns[name] != fn {
		s.mu.Unlock()
		return notFound(functionARN(s.opts.Region, s.opts.AccountID, name))
	}
	delete(s.fns, name)
	s.mu.Unlock()
	fn.pool.close()
	if err := s.store.remove(name); err != nil {
		return err
	}
	s.log.Info("function deleted", "function", name)
	return nil
}
