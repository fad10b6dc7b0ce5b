"""hydrant's runtime for python3.* Lambda functions.

It speaks the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API with the standard
library only: import the handler module (_HANDLER = "module.function") from
LAMBDA_TASK_ROOT, then for each event call handler(event, context) and post
its result, or its exception as {"errorMessage", "errorType", "stackTrace"}.
hydrant writes START, END and REPORT itself.
"""

import decimal
import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback

# host:port, then the instance's secret path segment hydrant requires on
# every request (/SECRET/2018-06-01/runtime/...).
API, _, PREFIX = os.environ["AWS_LAMBDA_RUNTIME_API"].partition("/")
BASE = ("/" + PREFIX if PREFIX else "") + "/2018-06-01/runtime"
TASK_ROOT = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())


class RuntimeClient:
    """A keep-alive HTTP connection to the Runtime API."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host, self.port = host, int(port)
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                if isinstance(body, str):
                    body = body.encode("utf-8")
                self.conn.request(method, BASE + path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                return resp.status, resp.headers, resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise


class LambdaContext:
    """The context object Lambda passes to Python handlers."""

    def __init__(self, request_id, deadline_ms, arn, client_context):
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = client_context
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def log(self, msg):
        sys.stdout.write(str(msg))
        sys.stdout.flush()

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s])"
            % (self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name,
               self.memory_limit_in_mb, self.function_version, self.invoked_function_arn)
        )


class RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record):
        record.aws_request_id = RequestIdFilter.request_id
        return True


def setup_logging():
    """Format the root logger's records as Lambda's Python runtime does."""
    handler = logging.StreamHandler(sys.stdout)
    fmt = logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
                            "%Y-%m-%dT%H:%M:%S")
    fmt.converter = time.gmtime
    handler.setFormatter(fmt)
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)


def error_doc(exc, error_type=None, request_id=None, skip_frames=0):
    tb = traceback.extract_tb(exc.__traceback__)[skip_frames:]
    doc = {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id or "",
        "stackTrace": traceback.format_list(tb),
    }
    return doc


def log_error(doc):
    lines = ["[ERROR] %s: %s" % (doc["errorType"], doc["errorMessage"])]
    if doc["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines.extend(line.rstrip("\n") for line in doc["stackTrace"])
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


class InitError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def load_handler(spec):
    try:
        modname, fname = spec.rsplit(".", 1)
    except ValueError as e:
        raise InitError("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (spec, e))
    modname = modname.replace("/", ".")
    try:
        module = importlib.import_module(modname)
    except ImportError as e:
        raise InitError("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        raise InitError("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e))
    handler = getattr(module, fname, None)
    if handler is None:
        raise InitError("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))
    return handler


def decimal_serializer(o):
    if isinstance(o, decimal.Decimal):
        return float(o)
    raise TypeError(repr(o) + " is not JSON serializable")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, TASK_ROOT)
    os.chdir(TASK_ROOT)
    setup_logging()
    client = RuntimeClient(API)
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:
        error_type = e.error_type if isinstance(e, InitError) else "Runtime.Unknown"
        doc = error_doc(e, error_type)
        doc["stackTrace"] = [] if isinstance(e, InitError) else doc["stackTrace"]
        log_error(doc)
        client.request("POST", "/init/error", json.dumps(doc),
                       {"Lambda-Runtime-Function-Error-Type": error_type, "Content-Type": "application/json"})
        sys.exit(1)

    while True:
        status, headers, body = client.request("GET", "/invocation/next")
        if status != 200:
            sys.exit(1)
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("Lambda-Runtime-Trace-Id", "")
        RequestIdFilter.request_id = request_id
        cc = headers.get("Lambda-Runtime-Client-Context")
        context = LambdaContext(request_id, int(headers.get("Lambda-Runtime-Deadline-Ms", "0")),
                                headers.get("Lambda-Runtime-Invoked-Function-Arn"),
                                json.loads(cc) if cc else None)
        try:
            event = json.loads(body) if body else {}
            result = handler(event, context)
            try:
                out = json.dumps(result, default=decimal_serializer)
            except Exception as e:
                raise InitError("Runtime.MarshalError", "Unable to marshal response: %s" % e)
        except Exception as e:
            if isinstance(e, InitError):
                doc = error_doc(e, e.error_type, request_id)
                doc["stackTrace"] = []
            else:
                doc = error_doc(e, None, request_id, skip_frames=1)
            log_error(doc)
            sys.stderr.flush()
            client.request("POST", "/invocation/%s/error" % request_id, json.dumps(doc),
                           {"Lambda-Runtime-Function-Error-Type": doc["errorType"],
                            "Content-Type": "application/json"})
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        client.request("POST", "/invocation/%s/response" % request_id, out,
                       {"Content-Type": "application/json"})


if __name__ == "__main__":
    main()
