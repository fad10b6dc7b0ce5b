"""The Python baseline of hydrant's Lambda benchmark.

    python3 baseline.py FUNCTION.py EVENTS.ndjson

imports the function's module and calls its lambda_handler on each event
hydrant sent to the function (one JSON document a line), one after the
other as the function's process receives them, in two passes: decoding each
event and encoding each answer as hydrant's Python runtime does for every
invocation (the handler with its runtime's codec), then the handler alone
on events decoded beforehand. Only the calls are timed, not reading the
file. It prints the wall and CPU seconds of each pass as JSON; what the
handler prints goes to /dev/null.
"""

import importlib.util
import json
import os
import sys
import time


class Context:
    """Just enough of Lambda's context object for a Firehose handler."""

    aws_request_id = "00000000-0000-0000-0000-000000000000"
    function_name = "bench"

    def get_remaining_time_in_millis(self):
        return 60000


def main():
    module_path, events_path = sys.argv[1], sys.argv[2]
    spec = importlib.util.spec_from_file_location("lambda_function", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler = module.lambda_handler
    ctx = Context()
    out = sys.stdout
    sys.stdout = open(os.devnull, "w")
    clock, cpu_clock = time.perf_counter, time.process_time

    records, codec_wall, codec_cpu = 0, 0.0, 0.0
    with open(events_path, "rb") as f:
        for payload in f:
            wall, cpu = clock(), cpu_clock()
            result = handler(json.loads(payload), ctx)
            json.dumps(result).encode("utf-8")
            codec_wall += clock() - wall
            codec_cpu += cpu_clock() - cpu
            records += len(result["records"])

    handler_wall, handler_cpu = 0.0, 0.0
    with open(events_path, "rb") as f:
        for payload in f:
            event = json.loads(payload)
            wall, cpu = clock(), cpu_clock()
            handler(event, ctx)
            handler_wall += clock() - wall
            handler_cpu += cpu_clock() - cpu

    sys.stdout = out
    print(json.dumps({"Records": records,
                      "Codec": {"Wall": codec_wall, "CPU": codec_cpu},
                      "Handler": {"Wall": handler_wall, "CPU": handler_cpu}}))


if __name__ == "__main__":
    main()
