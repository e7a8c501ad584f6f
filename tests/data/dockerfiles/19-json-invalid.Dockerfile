FROM alpine:3.20
CMD ["echo", 'single quotes make this shell form']
USER 1000
