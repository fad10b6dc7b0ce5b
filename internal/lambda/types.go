package lambda

import "time"

// lastModifiedLayout is Lambda's LastModified format:
// 2026-11-25T21:30:00.000+0000.
const lastModifiedLayout = "2006-01-02T15:04:05.000-0700"

// FunctionConfiguration is a function's configuration as Lambda returns it
// from CreateFunction, GetFunctionConfiguration, ListFunctions and the
// updates.
type FunctionConfiguration struct {
	FunctionName     string
	FunctionArn      string
	Runtime          string `json:",omitempty"`
	Role             string
	Handler          string `json:",omitempty"`
	CodeSize         int64
	Description      string
	Timeout          int
	MemorySize       int
	LastModified     string
	CodeSha256       string
	Version          string
	Environment      *EnvironmentResponse `json:",omitempty"`
	TracingConfig    TracingConfig
	RevisionId       string
	State            string
	StateReason      string `json:",omitempty"`
	StateReasonCode  string `json:",omitempty"`
	LastUpdateStatus string
	PackageType      string
	Architectures    []string
	EphemeralStorage EphemeralStorage
	SnapStart        SnapStartResponse
	LoggingConfig    LoggingConfig
	DeadLetterConfig *DeadLetterConfig `json:",omitempty"`
}

// EnvironmentResponse is a function's environment variables.
type EnvironmentResponse struct {
	Variables map[string]string
}

// TracingConfig is the X-Ray mode; hydrant records it and traces nothing.
type TracingConfig struct {
	Mode string
}

// EphemeralStorage is the size of /tmp in MB.
type EphemeralStorage struct {
	Size int
}

// SnapStartResponse is always off: hydrant publishes no versions.
type SnapStartResponse struct {
	ApplyOn            string
	OptimizationStatus string
}

// LoggingConfig names the function's log group and format.
type LoggingConfig struct {
	LogFormat           string `json:",omitempty"`
	ApplicationLogLevel string `json:",omitempty"`
	SystemLogLevel      string `json:",omitempty"`
	LogGroup            string `json:",omitempty"`
}

// DeadLetterConfig is recorded and returned; hydrant sends nothing to it.
type DeadLetterConfig struct {
	TargetArn string `json:",omitempty"`
}

// getFunctionResponse is GetFunction's answer.
type getFunctionResponse struct {
	Configuration FunctionConfiguration
	Code          codeLocation
	Tags          map[string]string `json:",omitempty"`
}

// codeLocation is where the function's package can be downloaded: a URL
// hydrant serves, in place of Lambda's presigned S3 URL.
type codeLocation struct {
	RepositoryType string
	Location       string
}

type listFunctionsResponse struct {
	Functions  []FunctionConfiguration
	NextMarker string `json:",omitempty"`
}

// createRequest is CreateFunction's input (the members hydrant reads; the
// model validates all of them).
type createRequest struct {
	FunctionName     string
	Runtime          string
	Role             string
	Handler          string
	Code             codeInput
	Description      *string
	Timeout          *int
	MemorySize       *int
	Publish          bool
	PackageType      string
	Environment      *environmentInput
	TracingConfig    *TracingConfig
	Tags             map[string]string
	Architectures    []string
	EphemeralStorage *EphemeralStorage
	LoggingConfig    *LoggingConfig
	DeadLetterConfig *DeadLetterConfig
}

type codeInput struct {
	ZipFile         []byte
	S3Bucket        string
	S3Key           string
	S3ObjectVersion string
	ImageUri        string
}

type environmentInput struct {
	Variables map[string]string
}

// updateConfigRequest is UpdateFunctionConfiguration's input.
type updateConfigRequest struct {
	Role             *string
	Handler          *string
	Description      *string
	Timeout          *int
	MemorySize       *int
	Environment      *environmentInput
	Runtime          *string
	TracingConfig    *TracingConfig
	RevisionId       string
	EphemeralStorage *EphemeralStorage
	LoggingConfig    *LoggingConfig
	DeadLetterConfig *DeadLetterConfig
}

// updateCodeRequest is UpdateFunctionCode's input.
type updateCodeRequest struct {
	ZipFile       []byte
	S3Bucket      string
	S3Key         string
	ImageUri      string
	Publish       bool
	DryRun        bool
	RevisionId    string
	Architectures []string
}

// formatLastModified renders t as Lambda does.
func formatLastModified(t time.Time) string {
	return t.UTC().Format(lastModifiedLayout)
}
