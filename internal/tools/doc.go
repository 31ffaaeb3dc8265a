// Package tools is certops's MCP front end: the tools an assistant calls to
// read certifications, to move review work, and to review (evidence,
// decisions, sign-off), the prompt that walks it through a review, and
// the HTTP layer (bearer tokens, Host and Origin
// checks) that serves them over streamable HTTP.
//
// Each tool is a constructor in the file of its area (certifications.go,
// reviewers.go, items.go, reassign.go, tasks.go, evidence.go,
// decisions.go) returning the tool's
// definition and its handler; toolsets.go lists them all, split into read
// and write tools. Handlers translate arguments into certs.Service calls and
// render what comes back; they decide nothing. Every failure a model can act
// on is a tool result with isError set (errors.go); only protocol failures
// are JSON-RPC errors.
package tools
