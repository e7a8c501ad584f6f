FROM busybox:1.36
MAINTAINER someone@example.com
LABEL org.opencontainers.image.source="https://example.com/repo" \
      org.opencontainers.image.licenses="MIT"
USER 1000
