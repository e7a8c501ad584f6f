# syntax=docker/dockerfile:1.7
FROM nginx:1.27-alpine
COPY <<-EOT /etc/nginx/conf.d/default.conf
	server { listen 8080; }
	EOT
USER 101
