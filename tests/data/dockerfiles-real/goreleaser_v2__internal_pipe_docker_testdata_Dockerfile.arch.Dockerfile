ARG ARCH
FROM docker.io/${ARCH}/alpine
ADD mybin /
