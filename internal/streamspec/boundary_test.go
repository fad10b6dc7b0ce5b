package streamspec_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDataPlaneBoundary: delivery, processing and format conversion (and
// their tests) know streams only through this package, never through the
// Firehose API's wire types or the registry, so that other front ends and a
// clustered log can drive them unchanged.
func TestDataPlaneBoundary(t *testing.T) {
	const mod = "github.com/hydrant-io/hydrant/"
	dataPlane := []string{"./internal/deliver", "./internal/process", "./internal/format"}
	forbidden := []string{mod + "internal/firehose", mod + "internal/stream", mod + "internal/config", mod + "cmd/hydrant"}
	args := append([]string{"list", "-deps", "-test", "-f", "{{.ImportPath}}"}, dataPlane...)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < len(dataPlane) {
		t.Fatalf("go list listed %d packages", len(deps))
	}
	for _, dep := range deps {
		// Test variants are listed as "pkg [pkg.test]".
		dep = strings.Trim(dep, "[]")
		for _, f := range forbidden {
			if dep == f {
				t.Errorf("the data plane (%s) depends on %s", strings.Join(dataPlane, ", "), f)
			}
		}
	}
}
