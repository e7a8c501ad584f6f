FROM debian:12-slim
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
VOLUME ["/data"]
EXPOSE 8080/tcp 9090
WORKDIR /data
USER 1000:1000
ENTRYPOINT exec /usr/local/bin/app --data /data
