FROM golang:1.22-bookworm AS build
RUN go build -o /bin/app ./...
FROM golang:1.22-bookworm
COPY --from=build /bin/app /bin/app
ENTRYPOINT ["/bin/app"]
