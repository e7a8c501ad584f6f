FROM golang:1.22
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /app .
FROM scratch
COPY --from=0 /app /app
USER 65532
ENTRYPOINT ["/app"]
