FROM alpine:3.20
RUN apk add --no-cache curl \
    jq
USER 1000
