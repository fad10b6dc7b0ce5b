#!/usr/bin/env python3
"""Copy an AWS service model from botocore into internal/awsproto/models, without
documentation strings, so hydrant validates requests against the exact shapes,
constraints and enums AWS publishes.

usage: python3 scripts/awsmodel.py firehose 2015-08-04
"""
import gzip, json, os, sys

import botocore

service, version = sys.argv[1], sys.argv[2]
src = os.path.join(os.path.dirname(botocore.__file__), "data", service, version, "service-2.json")
opener = open
if not os.path.exists(src):
    src += ".gz"
    opener = gzip.open
with opener(src, "rt") as f:
    model = json.load(f)


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("documentation", "documentationUrl", "examples")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


out = strip(model)
out["metadata"]["botocoreVersion"] = botocore.__version__
dst = os.path.join(os.path.dirname(__file__), "..", "internal", "awsproto", "models", f"{service}-{version}.json")
with open(dst, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print(dst, os.path.getsize(dst))
