package lambda

import (
	"context"
	"net/http"
)

// Router is the Invoker the Firehose processor uses: a function hydrant
// hosts runs locally; any other goes to the remote endpoint when one is
// configured; otherwise it is ResourceNotFoundException.
//
// A hosted function is chosen by name when the ARN names hydrant's region
// and account (or none). An ARN of another account or region goes to the
// remote endpoint if there is one, and otherwise still runs the hosted
// function of that name, so recipes written for a real account work
// unchanged.
type Router struct {
	Local  *Service // nil: no hosted functions
	Remote Invoker  // nil: no remote endpoint
}

var _ Invoker = (*Router)(nil)

// Invoke routes one invocation.
func (rt *Router) Invoke(ctx context.Context, functionARN string, payload []byte) ([]byte, string, error) {
	ref, ok := parseFunctionName(functionARN)
	if ok && rt.Local != nil && rt.Local.Has(ref.Name) && (rt.Remote == nil || rt.Local.ours(ref)) {
		name := ref.Name
		if ref.Qualifier != "" {
			name += ":" + ref.Qualifier
		}
		return rt.Local.Invoke(ctx, name, payload)
	}
	if rt.Remote != nil {
		return rt.Remote.Invoke(ctx, functionARN, payload)
	}
	arn := functionARN
	if ok && rt.Local != nil {
		arn = rt.Local.refARN(ref)
	}
	return nil, "", &InvokeError{Type: ResourceNotFound, Message: "Function not found: " + arn, StatusCode: http.StatusNotFound}
}
