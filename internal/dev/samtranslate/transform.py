# Expands a SAM template into CloudFormation with samtranslator, SAM's own
# transform (the package cfn-lint brings), as `sam deploy` has it expanded.
# argv: template path, parameter values (JSON object). CloudFormation JSON
# on stdout. Function code is given S3 locations first, as `sam package`
# does (the transform refuses a local CodeUri).
import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402


class NoManagedPolicies:
    # The template names managed policies by ARN only; nothing to look up.
    def load(self):
        return {}


with open(sys.argv[1]) as f:
    template = yaml_parse(f.read())
bucket = sys.argv[3] if len(sys.argv) > 3 else "tollgate-artifacts"
for logical_id, resource in template.get("Resources", {}).items():
    if resource.get("Type") == "AWS::Serverless::Function":
        resource.setdefault("Properties", {})["CodeUri"] = "s3://%s/%s.zip" % (bucket, logical_id)
params = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
json.dump(transform(template, params, NoManagedPolicies()), sys.stdout, indent=1, sort_keys=True, default=str)
