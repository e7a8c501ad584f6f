FROM alpine:3.20
ONBUILD RUN echo hi
HEALTHCHECK --interval=30s --timeout=3s CMD wget -qO- http://localhost:8080/healthz || exit 1
STOPSIGNAL SIGTERM
USER 1000
