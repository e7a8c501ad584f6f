FROM golang:1.22 AS b
WORKDIR /s
COPY . .
RUN go build -o /a .
FROM ubuntu:24.04
RUN apt-get update && apt-get install -y ca-certificates
COPY --from=b /a /a
CMD ["/a"]
