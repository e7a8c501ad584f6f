FROM golang:1.22 AS build
COPY . /src
WORKDIR /src
RUN CGO_ENABLED=0 go build -o /app .
RUN upx /app
RUN strip /app
FROM scratch
COPY --from=build /app /app
ENTRYPOINT ["/app"]
