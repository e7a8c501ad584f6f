FROM alpine
RUN false
