// Package sailpointapi embeds SailPoint's own OpenAPI specs for the
// certification endpoints (see README.md beside this file), so the sandbox's
// contract check and tests need nothing outside the repository.
package sailpointapi

import "embed"

// Files holds beta.yaml, v3.yaml and per-service-v1.yaml.
//
//go:embed beta.yaml v3.yaml per-service-v1.yaml
var Files embed.FS

// Spec file names, one per API flavour.
const (
	Beta       = "beta.yaml"
	V3         = "v3.yaml"
	PerService = "per-service-v1.yaml"
)
