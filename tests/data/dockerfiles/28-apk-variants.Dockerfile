FROM alpine:3.20
RUN apk update && apk upgrade && apk add --virtual .deps build-base
RUN apk --no-cache add tini
USER 1000
ENTRYPOINT ["/sbin/tini", "--"]
