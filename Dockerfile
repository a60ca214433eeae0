# Pillarbox container: Debian slim (glibc, libgcc_s: the embedded libsql addon
# needs them, so not Alpine) plus the single compiled binary.
#
#   npm ci && npm run build        # writes dist/pillarbox
#   docker build -t pillarbox .
#   docker run -d --name pillarbox -v pillarbox-data:/data \
#     -e PILLARBOX_HOSTNAME=mail.example.org -e PILLARBOX_ACME=on \
#     -p 25:25 -p 587:587 -p 465:465 -p 143:143 -p 993:993 -p 110:110 -p 995:995 -p 80:80 -p 443:443 -p 4190:4190 \
#     pillarbox
#   docker exec -it pillarbox pillarbox quickstart admin@example.org --acme
#
# The certificate comes from Let's Encrypt (ACME) over ports 80/443 and is kept
# in /data/acme: no certificate mount is needed.
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 990 --home-dir /data --shell /usr/sbin/nologin pillarbox \
 && mkdir -p /data \
 && chown pillarbox:pillarbox /data \
 && chmod 700 /data

COPY dist/pillarbox /usr/local/bin/pillarbox

# The binary caches its SQLite (libsql) driver in /data/.cache on first use
# (src/native-addon.ts); a writable $TMPDIR is not needed.
ENV PILLARBOX_DATA_DIR=/data

VOLUME ["/data"]
EXPOSE 25 587 465 143 993 110 995 80 443 4190

# Docker >= 20.10 lets non-root processes bind ports below 1024 inside the
# container (net.ipv4.ip_unprivileged_port_start=0). With older Docker or
# Podman, pass --sysctl net.ipv4.ip_unprivileged_port_start=0.
USER pillarbox
# Healthy while the server answers GET /healthz on its HTTP listener (200; 503 while stopping).
# bash's /dev/tcp: the slim image has no curl. With the HTTP listener off, override this.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/80 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/pillarbox"]
CMD ["serve"]
