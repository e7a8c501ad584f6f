FROM golang:1.22 AS build
RUN apt-get update && apt-get install -y upx-ucl && rm -rf /var/lib/apt/lists/*
COPY . /src
WORKDIR /src
RUN CGO_ENABLED=0 go build -o /app . && strip /app && upx --best --lzma /app
FROM scratch
COPY --from=build /app /app
USER 65532
ENTRYPOINT ["/app"]
