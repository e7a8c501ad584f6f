FROM golang:1.22 AS build
WORKDIR /src
COPY go.* ./
RUN go mod download
COPY . .
RUN go build -trimpath -ldflags='-s -w' -o /server .
FROM scratch
COPY --from=build /server /server
USER 65532:65532
ENTRYPOINT ["/server"]
