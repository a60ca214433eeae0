# Pillarbox container: Debian slim (glibc, libgcc_s: the embedded libsql addon
# needs them, so not Alpine) plus the single compiled binary.
#
#   npm ci && npm run build        # writes dist/pillarbox
#   docker build -t pillarbox .
#   docker run -d --name pillarbox -v pillarbox-data:/data \
#     -e PILLARBOX_HOSTNAME=mail.example.org \
#     -p 25:25 -p 587:587 -p 465:465 -p 143:143 -p 993:993 -p 110:110 -p 995:995 -p 80:80 -p 443:443 \
#     pillarbox
#   docker exec -it pillarbox pillarbox quickstart admin@example.org
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
EXPOSE 25 587 465 143 993 110 995 80 443

# Docker >= 20.10 lets non-root processes bind ports below 1024 inside the
# container (net.ipv4.ip_unprivileged_port_start=0). With older Docker or
# Podman, pass --sysctl net.ipv4.ip_unprivileged_port_start=0.
USER pillarbox
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/pillarbox"]
CMD ["serve"]
