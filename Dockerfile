# syntax=docker/dockerfile:1
#
# One image holding certops' four static binaries in /usr/local/bin:
#   mcp-server     the MCP server (the default command: streamable HTTP on :8080)
#   slackbot       the Slack bot (run /usr/local/bin/slackbot --addr 0.0.0.0:3000)
#   sandbox        an emulated SailPoint ISC tenant, for demos and trials
#   certops-audit  review evidence exports for auditors, and their verification
#                  (kubectl exec deploy/certops-mcp-server -- certops-audit export --cert … --as …)
#
#   docker build -t certops:dev --build-arg VERSION=$(git describe --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) .
#
# internal/deploy/build_test.go replays this file's `go build` line with this
# stage's environment, so keep the build a single command in one RUN.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Set by BuildKit for cross-builds (docker buildx build --platform linux/arm64).
ARG TARGETOS TARGETARCH
# No cgo: SQLite is modernc.org/sqlite (pure Go), so the binaries are static
# and run on an image with no libc.
ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/mcp-server ./cmd/slackbot ./cmd/sandbox ./cmd/certops-audit
# The runtime image has no shell to make the SQLite directory with.
RUN mkdir -p /data

# distroless/static: CA certificates, tzdata, /etc/passwd with nonroot (65532),
# and nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="certops" \
      org.opencontainers.image.description="SailPoint ISC certifications from an AI assistant (MCP) and Slack" \
      org.opencontainers.image.source="https://github.com/certops/certops" \
      org.opencontainers.image.url="https://github.com/certops/certops" \
      org.opencontainers.image.documentation="https://github.com/certops/certops#readme" \
      org.opencontainers.image.vendor="certops" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/mcp-server /out/slackbot /out/sandbox /out/certops-audit /usr/local/bin/
# SQLite's home when DATABASE_URL is not set (CERTOPS_SQLITE_PATH=/data/certops.db).
COPY --from=build --chown=65532:65532 /data /data
VOLUME ["/data"]
USER 65532:65532
WORKDIR /data
EXPOSE 8080 3000
CMD ["/usr/local/bin/mcp-server", "--http", "0.0.0.0:8080"]
