"""Derives the built-in trigger catalog from the official SDK's payload models: input/output JSON
Schemas come from the pydantic models; examples are generated from those schemas with realistic
values and then checked to deserialize into exactly one SDK model (as the SDK's oneOf requires)."""
import json, os, sys, hashlib
import sailpoint.triggers.models as m
from sailpoint.triggers.models.trigger_example_input import TriggerExampleInput
from sailpoint.triggers.models.trigger_example_output import TriggerExampleOutput

OUT = sys.argv[1]
T = [
 ("idn:identity-created","Identity Created","FIRE_AND_FORGET","An identity was created, e.g. by aggregation or manually.","IdentityCreated",None),
 ("idn:identity-attributes-changed","Identity Attributes Changed","FIRE_AND_FORGET","One or more attributes of an identity changed.","IdentityAttributesChanged",None),
 ("idn:identity-deleted","Identity Deleted","FIRE_AND_FORGET","An identity was deleted.","IdentityDeleted",None),
 ("idn:account-aggregation-completed","Account Aggregation Completed","FIRE_AND_FORGET","An account aggregation of a source finished (successfully or not).","AccountAggregationCompleted",None),
 ("idn:aggregation-accounts-collected","Accounts Collected for Aggregation","FIRE_AND_FORGET","Accounts of a source were collected and are about to be aggregated.","AccountsCollectedForAggregation",None),
 ("idn:account-attributes-changed","Account Attributes Changed","FIRE_AND_FORGET","Attributes of an account changed during aggregation.","AccountAttributesChanged",None),
 ("idn:account-correlated","Account Correlated","FIRE_AND_FORGET","An account was correlated to an identity.","AccountCorrelated",None),
 ("idn:account-uncorrelated","Account Uncorrelated","FIRE_AND_FORGET","An account was uncorrelated from its identity.","AccountUncorrelated",None),
 ("idn:account-created","Account Created","FIRE_AND_FORGET","An account was created on a source.","AccountCreated",None),
 ("idn:account-updated","Account Updated","FIRE_AND_FORGET","An account on a source was updated.","AccountUpdated",None),
 ("idn:account-deleted","Account Deleted","FIRE_AND_FORGET","An account was deleted from a source.","AccountDeleted",None),
 ("idn:access-request-post-approval","Access Request Decision","FIRE_AND_FORGET","An access request was approved or denied.","AccessRequestPostApproval",None),
 ("idn:source-created","Source Created","FIRE_AND_FORGET","A source was created.","SourceCreated",None),
 ("idn:source-updated","Source Updated","FIRE_AND_FORGET","A source's configuration changed.","SourceUpdated",None),
 ("idn:source-deleted","Source Deleted","FIRE_AND_FORGET","A source was deleted.","SourceDeleted",None),
 ("idn:campaign-activated","Campaign Activated","FIRE_AND_FORGET","A certification campaign was activated.","CampaignActivated",None),
 ("idn:campaign-ended","Campaign Ended","FIRE_AND_FORGET","A certification campaign ended.","CampaignEnded",None),
 ("idn:campaign-generated","Campaign Generated","FIRE_AND_FORGET","A certification campaign finished generating.","CampaignGenerated",None),
 ("idn:post-provisioning","Provisioning Completed","FIRE_AND_FORGET","A provisioning action completed on a source.","ProvisioningCompleted",None),
 ("idn:saved-search-complete","Scheduled Search","FIRE_AND_FORGET","A scheduled saved search finished and produced results.","SavedSearchComplete",None),
 ("idn:va-cluster-status-change","VA Cluster Status Change","FIRE_AND_FORGET","The health of a virtual appliance cluster changed.","VAClusterStatusChangeEvent",None),
 ("idn:access-request-pre-approval","Access Request Submitted","REQUEST_RESPONSE","An access request was submitted; the subscriber decides whether it is approved before the approval workflow starts.","AccessRequestPreApproval","AccessRequestPreApproval2"),
 ("idn:access-request-dynamic-approver","Access Request Dynamic Approver","REQUEST_RESPONSE","An access request was submitted; the subscriber may name an extra approver (an identity or a governance group).","AccessRequestDynamicApprover","AccessRequestDynamicApprover2"),
]

def resolve(s, defs):
    while "$ref" in s:
        s = defs[s["$ref"].split("/")[-1]]
    return s

ENUMS = {"operation": "Add", "approvalDecision": "APPROVED", "provisioningResult": "SUCCESS",
         "campaignType": "MANAGER", "correlatedStatus": "CORRELATED", "mandatoryCommentRequirement": "NO_DECISIONS",
         "healthCheckResult.status": "Succeeded", "previousHealthCheckResult.status": "Succeeded"}
PARENT_TYPE = {"source": "SOURCE", "account": "ACCOUNT", "campaign": "MANAGER", "certification": "CERTIFICATION",
               "campaignRef": "CAMPAIGN", "requestedItem": "ACCESS_PROFILE", "requestedItemsStatu": "ACCESS_PROFILE",
               "application": "CLUSTER", "": "CLUSTER"}
PARENT = [""]
CAMPAIGN_STATUS = {"idn:campaign-activated": "ACTIVE", "idn:campaign-ended": "COMPLETED", "idn:campaign-generated": "STAGED"}
CURRENT = [""]
def sample(name, s, defs, depth=0):
    s = resolve(s, defs)
    parent = PARENT[-1]
    if name in ENUMS: return ENUMS[name]
    if parent + "." + name in ENUMS: return ENUMS[parent + "." + name]
    if name == "type" and parent in PARENT_TYPE and CURRENT[0] != "idn:identity-created": return PARENT_TYPE[parent]
    if name == "status" and parent == "campaign" and CURRENT[0] in CAMPAIGN_STATUS: return CAMPAIGN_STATUS[CURRENT[0]]
    if "anyOf" in s:
        non_null = [x for x in s["anyOf"] if resolve(x, defs).get("type") != "null"]
        return sample(name, non_null[0], defs, depth)
    if "oneOf" in s:
        return sample(name, s["oneOf"][0], defs, depth)
    if "allOf" in s:
        return sample(name, s["allOf"][0], defs, depth)
    if "enum" in s:
        return s["enum"][0]
    if "const" in s:
        return s["const"]
    t = s.get("type")
    n = (name or "").lower()
    if t == "object" or "properties" in s:
        props = s.get("properties")
        if not props:
            return {"department": "Engineering", "email": "john.doe@example.com"} if depth < 6 else {}
        PARENT.append(name)
        try:
            return {k: sample(k, v, defs, depth + 1) for k, v in props.items()}
        finally:
            PARENT.pop()
    if t == "array":
        return [sample(name.rstrip("s") if name else name, s.get("items", {}), defs, depth + 1)]
    if t == "integer":
        return 2 if "count" in n or n in ("total","scanned","unchanged","changed","added","removed") else 1
    if t == "number":
        return 1.0
    if t == "boolean":
        return n not in ("removed", "deleted")
    if t == "string":
        if s.get("format") == "date-time" or n in ("created","modified","deadline","started","completed","signed","date","time"):
            return "2026-11-22T10:15:30.123Z"
        if n == "type": return "IDENTITY"
        if n.endswith("id") or n == "id": return hashlib.md5(n.encode()).hexdigest()
        if "email" in n: return "john.doe@example.com"
        if "name" in n: return "john.doe" if "identity" in n or n in ("name","username","displayname") else "Example " + name
        if "comment" in n: return "Approved for the Q4 project."
        if n == "status": return "Success"
        if "url" in n or "link" in n: return "https://example.com/resource"
        return "example " + name
    return "example"

def fix_wrappers(node):
    # The SDK's oneOf/anyOf wrapper classes are pydantic models whose *fields* are the candidate
    # validators; their real JSON shape is "one of those candidates".
    if isinstance(node, dict):
        props = node.get("properties") or {}
        cands = [v for k, v in props.items() if k.startswith(("oneof_schema_", "anyof_schema_"))]
        if cands:
            alts = []
            for c in cands:
                alts.extend(x for x in c.get("anyOf", [c]) if x.get("type") != "null")
            keep = {k: v for k, v in node.items() if k in ("description", "title")}
            node.clear(); node.update(keep); node["anyOf"] = alts
        for v in list(node.values()):
            fix_wrappers(v)
    elif isinstance(node, list):
        for v in node:
            fix_wrappers(v)

def schema_of(cls):
    s = cls.model_json_schema(by_alias=True)
    fix_wrappers(s)
    s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return s

def check_one(wrapper, data):
    # Exactly one SDK model must accept the example, or the SDK's Trigger model rejects it.
    wrapper.from_json(json.dumps(data))

os.makedirs(OUT, exist_ok=True)
index = []
for tid, name, ttype, desc, inp, outp in T:
    CURRENT[0] = tid
    icls = getattr(m, inp)
    ischema = schema_of(icls)
    ex_path = os.path.join(OUT, tid.split(":")[1] + ".json")
    entry = {"id": tid, "name": name, "type": ttype, "description": desc, "inputSchema": ischema}
    old = json.load(open(ex_path)) if os.path.exists(ex_path) else {}
    entry["exampleInput"] = old.get("exampleInput") or sample("", ischema, ischema.get("$defs", {}))
    if outp:
        ocls = getattr(m, outp)
        oschema = schema_of(ocls)
        entry["outputSchema"] = oschema
        entry["exampleOutput"] = old.get("exampleOutput") or sample("", oschema, oschema.get("$defs", {}))
    try:
        check_one(TriggerExampleInput, entry["exampleInput"])
        if outp: check_one(TriggerExampleOutput, entry["exampleOutput"])
        ok = "ok"
    except Exception as e:
        ok = "FAIL " + str(e)[:300]
    print(tid, ok)
    json.dump(entry, open(ex_path, "w"), indent=2)
    index.append(tid.split(":")[1] + ".json")
print(index)
