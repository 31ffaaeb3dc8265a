package sailpoint

import (
	"net/url"
	"strings"
)

// operation is one SailPoint API operation in both flavours: its
// operationIds and its path template's service and segments.
type operation struct {
	v3, v1 string // operationIds: v3.yaml and per-service-v1.yaml
	// service is the first path segment: "certifications",
	// "certification-tasks" or "public-identities". v3 puts the version
	// first (/v3/certifications/...), the per-service API after the service
	// (/certifications/v1/...).
	service string
}

// The operations the client calls (README "Operations").
var (
	opListCertifications   = operation{"listIdentityCertifications", "listIdentityCertificationsV1", "certifications"}
	opGetCertification     = operation{"getIdentityCertification", "getIdentityCertificationV1", "certifications"}
	opListReviewers        = operation{"listCertificationReviewers", "listCertificationReviewersV1", "certifications"}
	opListReviewItems      = operation{"listIdentityAccessReviewItems", "listIdentityAccessReviewItemsV1", "certifications"}
	opListPermissions      = operation{"getIdentityCertificationItemPermissions", "getIdentityCertificationItemPermissionsV1", "certifications"}
	opReassign             = operation{"reassignIdentityCertifications", "reassignIdentityCertificationsV1", "certifications"}
	opReassignAsync        = operation{"submitReassignCertsAsync", "submitReassignCertsAsyncV1", "certifications"}
	opDecide               = operation{"makeIdentityDecision", "makeIdentityDecisionV1", "certifications"}
	opSignOff              = operation{"signOffIdentityCertification", "signOffIdentityCertificationV1", "certifications"}
	opListPendingTasks     = operation{"getPendingCertificationTasks", "getPendingCertificationTasksV1", "certification-tasks"}
	opGetTask              = operation{"getCertificationTask", "getCertificationTaskV1", "certification-tasks"}
	opListPublicIdentities = operation{"getPublicIdentities", "getPublicIdentitiesV1", "public-identities"}
)

// id returns the operationId in the client's flavour.
func (c *Client) opID(op operation) string {
	if c.cfg.APIVersion == APIv1 {
		return op.v1
	}
	return op.v3
}

// url builds the request URL of op: the base URL's path, the flavour's
// prefix, then segs, each escaped with url.PathEscape. Segments are never
// concatenated into the path unescaped; ids are also validated by the
// caller (certs.ValidateID) before they get here.
func (c *Client) url(op operation, query url.Values, segs ...string) *url.URL {
	var prefix []string
	if c.cfg.APIVersion == APIv1 {
		prefix = []string{op.service, "v1"}
	} else {
		prefix = []string{"v3", op.service}
	}
	raw := strings.TrimRight(c.base.EscapedPath(), "/")
	plain := strings.TrimRight(c.base.Path, "/")
	for _, s := range append(prefix, segs...) {
		raw += "/" + url.PathEscape(s)
		plain += "/" + s
	}
	u := *c.base
	u.Path, u.RawPath = plain, raw
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return &u
}
