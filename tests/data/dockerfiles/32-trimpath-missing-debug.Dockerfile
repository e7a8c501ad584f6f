FROM golang:1.22 AS debug
RUN CGO_ENABLED=0 go build -gcflags='all=-N -l' -o /app .
RUN CGO_ENABLED=0 go install github.com/go-delve/delve/cmd/dlv@v1.27.2
FROM gcr.io/distroless/static-debian12
COPY --from=debug /app /app
COPY --from=debug /go/bin/dlv /dlv
USER 65532
ENTRYPOINT ["/dlv", "exec", "/app", "--headless", "--listen=:2345"]
