from alpine:3.20
run apk add --no-cache bash
user 1000
cmd ["bash"]
