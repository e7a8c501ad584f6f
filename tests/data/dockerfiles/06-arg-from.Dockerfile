ARG BASE=alpine
ARG TAG=3.20
FROM ${BASE}:${TAG}
RUN apk add curl
USER 1000
