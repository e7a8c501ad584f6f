# syntax=docker/dockerfile:1
FROM alpine:3.20 AS tools
RUN <<EOF
set -eu
apk add --no-cache git ca-certificates
git --version
EOF
FROM scratch
COPY --from=tools /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
