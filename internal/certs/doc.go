// Package certs is the domain of certops: the types of SailPoint Identity
// Security Cloud (ISC) certifications (access reviews), the rules for moving
// review work between reviewers, and the Service that both front ends (the MCP
// server and the Slack bot) call.
//
// The package imports no other certops package. Adapters implement its
// interfaces: internal/sailpoint implements Tenant over ISC's REST API and
// internal/store implements Store over SQL. Front ends translate their input
// into Service calls and render what comes back; they decide nothing.
//
// Every operation returns *Error (see error.go) for failures a person can act
// on; ErrorCode and ErrorMessage read them through any wrapping.
package certs
