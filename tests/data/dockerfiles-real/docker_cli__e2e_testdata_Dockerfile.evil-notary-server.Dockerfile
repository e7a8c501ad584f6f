# syntax=docker/dockerfile:1

ARG NOTARY_VERSION=0.6.1

FROM notary:server-${NOTARY_VERSION}

COPY ./notary-evil/ /fixtures/
