FROM alpine
ADD mybin_*.apk /
ADD mybin /
ADD anotherbin /
