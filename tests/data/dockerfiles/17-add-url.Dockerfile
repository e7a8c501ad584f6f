FROM debian:12-slim
ADD https://github.com/example/tool/releases/download/v1/tool.tar.gz /opt/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/ok.tgz /opt/
USER 1000
