FROM alpine:3.20
ARG CACHEBUST=1
RUN echo "built at $(date)" > /etc/build-info
RUN echo $RANDOM > /seed
USER nobody
