# The exporters and the Pushgateway (the folders with a build-args file): one Prometheus-ecosystem
# daemon from its Debian package, with the official image's contract: the binary as ENTRYPOINT
# (arguments are its flags), user nobody (65534), one port. wget is added for health checks (the
# official images have busybox's). scripts/images passes each line of the folder's build-args
# as --build-arg and appends ENTRYPOINT ["$BINARY"] (exec-form ENTRYPOINT expands no ARG).
# See README.md.
ARG BASE=chatapi-local/debian:bookworm
FROM ${BASE}
ARG PACKAGE
ARG BINARY=/usr/bin/${PACKAGE}
ARG PORT
ARG USER=65534:65534

RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends "${PACKAGE}" wget; \
    rm -rf /var/lib/apt/lists/*; \
    "${BINARY}" --version

USER ${USER}
EXPOSE ${PORT}
