FROM golang:1.22 AS base
ENV CGO_ENABLED=0
WORKDIR /src
FROM base AS build
COPY . .
RUN go build -trimpath -ldflags='-s -w' -o /app .
FROM build AS test
RUN go test ./...
FROM scratch
COPY --from=build /app /app
USER 65532
ENTRYPOINT ["/app"]
