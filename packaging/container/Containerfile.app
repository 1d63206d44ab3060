# An application image with the PKCS #11 module: Debian 12 slim, the binary
# tarball (packaging/make-tarball.sh) at /opt/nfast/wsop/pkcs11, a non-root
# account, logs on standard output only. Meant to run with a read-only root
# and the client key as a secret; see README.md next to this file.
#
#   podman build -f packaging/container/Containerfile.app -t pkcs11wsop-app \
#       --build-arg WSOP_HOST=wsop.example.com --build-arg WSOP_PORT=18001 DIR
# where DIR holds pkcs11-1.0.0.tar.gz (or name it with --build-arg TARBALL=).
ARG BASE=docker.io/library/debian:bookworm-slim
FROM ${BASE}

ARG TARBALL=pkcs11-1.0.0.tar.gz
# pkcs11-tool and friends for trying it out: --build-arg EXTRA_PACKAGES=opensc
ARG EXTRA_PACKAGES=
ARG WSOP_HOST=wsop.example.com
ARG WSOP_PORT=18001
# The account the application runs as. The client key is handed to the
# container readable by this uid alone.
ARG APP_UID=10001
ARG APP_GID=10001

# The shared libraries the module, its helper and the tools link against
# (the helper's seccomp filter is compiled when it is built: no libseccomp).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 libjson-c5 ${EXTRA_PACKAGES} \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# The tarball unpacks under / as the manual says; the reference server is
# not part of an application image.
COPY ${TARBALL} /tmp/pkcs11.tar.gz
RUN tar -C / -xzf /tmp/pkcs11.tar.gz \
 && rm -f /tmp/pkcs11.tar.gz /opt/nfast/wsop/pkcs11/bin/wsopd \
 && groupadd --gid ${APP_GID} app \
 && useradd --uid ${APP_UID} --gid ${APP_GID} --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin app

# A container has no syslog and a read-only root: every log line goes to
# standard output (LOGSTDOUT 1), and LOGFILEPATH names /dev/null so that
# nothing tries to write under the image. The credentials are secrets
# mounted under /run/secrets. Mount another file over this one to change it.
RUN printf '%s\n' \
        "HOST ${WSOP_HOST}" \
        "PORT ${WSOP_PORT}" \
        "CERT /run/secrets/client.crt" \
        "KEY /run/secrets/client.key" \
        "AUTH /run/secrets/ca.crt" \
        "LOGLEVEL 4" \
        "LOGSTDOUT 1" \
        "LOGFILEPATH /dev/null" \
        >/opt/nfast/wsop/pkcs11/conf/pkcs11wsop.cfg \
 && chmod 0644 /opt/nfast/wsop/pkcs11/conf/pkcs11wsop.cfg

ENV PATH=/opt/nfast/wsop/pkcs11/bin:/usr/local/bin:/usr/bin:/bin
USER ${APP_UID}:${APP_GID}
WORKDIR /
CMD ["ckinfo"]
