FROM golang:1.27.2@sha256:820153096fda4de6ac1b7194d12e416b7dd8f4e9a33d17e0345b111b945162d8

COPY scripts/devtools.sh /opt/devtools.sh

RUN set -e -x && \
    /opt/devtools.sh

ENV PATH=/go/bin:$PATH

ENV CGO_ENABLED 0
ENV GOPATH /go:/yq
