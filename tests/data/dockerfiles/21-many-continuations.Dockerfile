FROM debian:12
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
    ca-certificates \
    # a comment inside a continuation
    curl \
 && rm -rf /var/lib/apt/lists/*
USER 1000
