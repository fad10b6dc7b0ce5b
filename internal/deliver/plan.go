package deliver

import (
	"encoding/json"
	"fmt"
	"time"
)

// Plan is an object decided but maybe not yet written: the record range it
// holds and everything needed to write the same bytes under the same key
// again. The delivery loop stores the plan in the log's commit state before
// it writes the object, so that after a crash it redoes exactly this object
// (overwriting a copy that may already exist) instead of cutting a new one
// with a new key: no duplicates.
type Plan struct {
	// From and To are the record range [From, To).
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	// Bucket and Key say where the object goes.
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// Compression is the CompressionFormat the object is written with.
	Compression string `json:"compression"`
	// ObjectID is the UUID in the object name, reused as the ZIP entry name.
	ObjectID string `json:"objectId"`
	// Time is the oldest record's arrival, used in the key and as the
	// modification time inside compressed framings.
	Time time.Time `json:"time"`
	// Records and Bytes describe the span, for logs and metrics.
	Records int   `json:"records"`
	Bytes   int64 `json:"bytes"`
}

// planVersion tags the encoding so a later hydrant can read older plans.
const planVersion = 1

type planEnvelope struct {
	V    int  `json:"v"`
	Plan Plan `json:"plan"`
}

func encodePlan(p Plan) []byte {
	b, _ := json.Marshal(planEnvelope{V: planVersion, Plan: p})
	return b
}

func decodePlan(b []byte) (Plan, error) {
	var env planEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		return Plan{}, fmt.Errorf("decode delivery plan: %w", err)
	}
	if env.V != planVersion {
		return Plan{}, fmt.Errorf("decode delivery plan: unknown version %d", env.V)
	}
	return env.Plan, nil
}
