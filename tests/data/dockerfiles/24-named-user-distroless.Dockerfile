FROM golang:1.22 AS build
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /app .
FROM gcr.io/distroless/static-debian12
COPY --from=build /app /app
USER nonroot:nonroot
ENTRYPOINT ["/app"]
