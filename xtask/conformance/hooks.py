"""Schemathesis hooks of `cargo xtask conformance` (loaded by `schemathesis.toml`).

The spec cannot express three rules of the sandbox, each a choice it documents for what the
vendor leaves undocumented (crates/sandbox/README.md, "The sandbox's own choices"), all
answered with 400, the vendor's documented "check the values of parameters in the request":

- `limit` above 1000 (the vendor's maximum is undocumented, so the spec states none);
- `call_from` after `call_to`, `upload_from` after `upload_to`, `duration_min` after
  `duration_max` (relations between two fields, which OpenAPI 3.0 cannot state).

Left as generated, schema-valid bodies that break them are answered 400 and fail
`positive_data_acceptance`. Rather than switching that check off, or accepting 400 as a valid
answer (which would make the check say nothing, 400 being this API's only refusal), the
bodies are brought inside those rules before they are sent: a pair in the wrong order is swapped, a
`limit` above 1000 is folded into 1..1000. Nothing else changes, so every schema violation of
a negative test case stays as generated (the rules touch only values of the right type, and
the changed values stay of it). The sandbox's own tests check the 400s for these rules.
"""

import schemathesis

# The sandbox's maximum `limit` (ccsqm_sandbox::MAX_LIMIT).
MAX_LIMIT = 1000

PAIRS = (
    ("call_from", "call_to"),
    ("upload_from", "upload_to"),
    ("duration_min", "duration_max"),
)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


@schemathesis.hook
def before_call(context, case, kwargs):
    # Every phase's requests pass here (the coverage phase's too, which no generation hook
    # sees); schemathesis then re-checks whether an edited body is still schema-valid.
    operation = context.operation
    if operation is None or operation.definition.raw.get("operationId") != "appraisecall_details":
        return
    body = case.body
    if not isinstance(body, dict):
        return
    limit = body.get("limit")
    if _is_int(limit) and limit > MAX_LIMIT:
        body["limit"] = (limit - 1) % MAX_LIMIT + 1
    for low, high in PAIRS:
        a, b = body.get(low), body.get(high)
        if _is_int(a) and _is_int(b) and a > b:
            body[low], body[high] = b, a
