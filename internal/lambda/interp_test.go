package lambda

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPythonBootstrap: the shipped bootstrap's context, logging, and the
// error documents of Lambda's Python runtime.
func TestPythonBootstrap(t *testing.T) {
	requireTool(t, "python3")
	s := openService(t, Options{})
	mustCreate(t, s, "py", "python3.12", "pkg/mod.handler", zipOf(t, map[string]string{
		"pkg/__init__.py": "",
		"pkg/mod.py": `import logging, os, decimal
logger = logging.getLogger()
logger.setLevel(logging.INFO)
print("module loaded")

def handler(event, context):
    logger.info("handling %s", event.get("n"))
    if event.get("set"):
        return {1, 2}
    return {"n": event.get("n"), "d": decimal.Decimal("1.5"), "tz": os.environ.get("TZ"), "cwd": os.getcwd() == os.environ["LAMBDA_TASK_ROOT"], "ctx": repr(context).startswith("LambdaContext([aws_request_id=")}
`,
	}), 10, nil)
	res, fnErr, err := invokeJSON(t, s, "py", map[string]any{"n": 7})
	if err != nil || fnErr != "" || string(res) != `{"n": 7, "d": 1.5, "tz": ":UTC", "cwd": true, "ctx": true}` {
		t.Errorf("invoke: %v %q %s", err, fnErr, res)
	}
	res, fnErr, _ = invokeJSON(t, s, "py", map[string]any{"set": true})
	if fnErr != "Unhandled" || !strings.Contains(string(res), `"errorType": "Runtime.MarshalError"`) || !strings.Contains(string(res), "Unable to marshal response: {1, 2} is not JSON serializable") {
		t.Errorf("marshal error: %q %s", fnErr, res)
	}
	logs := logText(s, "py")
	if !strings.Contains(logs, "module loaded") || !strings.Contains(logs, "[INFO]\t") || !strings.Contains(logs, "\thandling 7") || !strings.Contains(logs, "[ERROR] Runtime.MarshalError") {
		t.Errorf("log:\n%s", logs)
	}

	mustCreate(t, s, "noimport", "python3.11", "missing.handler", zipOf(t, map[string]string{"other.py": ""}), 10, nil)
	res, fnErr, _ = invokeJSON(t, s, "noimport", map[string]any{})
	var doc struct{ ErrorMessage, ErrorType string }
	_ = json.Unmarshal(res, &doc)
	if fnErr != "Unhandled" || doc.ErrorType != "Runtime.ImportModuleError" || doc.ErrorMessage != "Unable to import module 'missing': No module named 'missing'" {
		t.Errorf("import error: %q %s", fnErr, res)
	}
	mustCreate(t, s, "nohandler", "python3.13", "other.nothere", zipOf(t, map[string]string{"other.py": "x = 1\n"}), 10, nil)
	res, _, _ = invokeJSON(t, s, "nohandler", map[string]any{})
	_ = json.Unmarshal(res, &doc)
	if doc.ErrorType != "Runtime.HandlerNotFound" || doc.ErrorMessage != "Handler 'nothere' missing on module 'other'" {
		t.Errorf("handler not found: %s", res)
	}
}

// TestNodeBootstrap: CommonJS and ESM handlers, async and callback styles,
// and errors.
func TestNodeBootstrap(t *testing.T) {
	requireTool(t, "node")
	s := openService(t, Options{})
	mustCreate(t, s, "cjs", "nodejs20.x", "index.handler", zipOf(t, map[string]string{
		"index.js": `exports.handler = async (event, context) => {
  console.log("event", JSON.stringify(event));
  if (event.fail) throw new TypeError("no " + event.fail);
  return { name: context.functionName, mem: context.memoryLimitInMB, arn: context.invokedFunctionArn, left: context.getRemainingTimeInMillis() > 1000, id: context.awsRequestId };
};`,
	}), 10, nil)
	res, fnErr, err := invokeJSON(t, s, "cjs", map[string]any{"a": 1})
	var got map[string]any
	_ = json.Unmarshal(res, &got)
	if err != nil || fnErr != "" || got["name"] != "cjs" || got["mem"] != "128" || got["left"] != true ||
		got["arn"] != "arn:aws:lambda:us-east-1:000000000000:function:cjs" {
		t.Errorf("cjs: %v %q %s", err, fnErr, res)
	}
	if logs := logText(s, "cjs"); !strings.Contains(logs, "\t"+got["id"].(string)+"\tINFO\tevent {\"a\":1}") {
		t.Errorf("console.log line missing:\n%s", logs)
	}
	res, fnErr, _ = invokeJSON(t, s, "cjs", map[string]any{"fail": "way"})
	var doc struct {
		ErrorType, ErrorMessage string
		Trace                   []string
	}
	_ = json.Unmarshal(res, &doc)
	if fnErr != "Unhandled" || doc.ErrorType != "TypeError" || doc.ErrorMessage != "no way" || len(doc.Trace) == 0 {
		t.Errorf("cjs error: %q %s", fnErr, res)
	}

	mustCreate(t, s, "esm", "nodejs22.x", "src/app.handler", zipOf(t, map[string]string{
		"src/app.mjs": `export const handler = async (event) => ({ esm: true, got: event.x });`,
	}), 10, nil)
	if res, fnErr, _ := invokeJSON(t, s, "esm", map[string]any{"x": 3}); fnErr != "" || string(res) != `{"esm":true,"got":3}` {
		t.Errorf("esm: %q %s", fnErr, res)
	}
	mustCreate(t, s, "cb", "nodejs18.x", "index.handler", zipOf(t, map[string]string{
		"index.js": `exports.handler = (event, context, callback) => { setTimeout(() => event.fail ? callback(new Error("cb failed")) : callback(null, "called back"), 10); };`,
	}), 10, nil)
	if res, fnErr, _ := invokeJSON(t, s, "cb", map[string]any{}); fnErr != "" || string(res) != `"called back"` {
		t.Errorf("callback: %q %s", fnErr, res)
	}
	if res, fnErr, _ := invokeJSON(t, s, "cb", map[string]any{"fail": true}); fnErr != "Unhandled" || !strings.Contains(string(res), `"errorMessage":"cb failed"`) {
		t.Errorf("callback error: %q %s", fnErr, res)
	}
	mustCreate(t, s, "nomod", "nodejs20.x", "index.handler", zipOf(t, map[string]string{"other.js": ""}), 10, nil)
	if res, _, _ := invokeJSON(t, s, "nomod", map[string]any{}); !strings.Contains(string(res), `"errorType":"Runtime.ImportModuleError"`) {
		t.Errorf("missing module: %s", res)
	}
}
