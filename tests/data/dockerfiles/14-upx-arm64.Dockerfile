FROM --platform=linux/arm64 golang:1.22 AS build
COPY . /src
WORKDIR /src
RUN CGO_ENABLED=0 GOARCH=arm64 go build -ldflags='-s -w' -o /app . && upx /app
FROM scratch
COPY --from=build /app /app
ENTRYPOINT ["/app"]
