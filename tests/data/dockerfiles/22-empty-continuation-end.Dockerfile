FROM alpine:3.20
RUN echo one \

USER 1000
