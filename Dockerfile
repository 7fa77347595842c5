# msgflo-rs: every binary (msgflo, msgflo-participant, msgflo-examples and
# the msgflo-* CLI tools) in one small image.
#
#   docker build -t msgflo-rs .
#   docker run --rm msgflo-rs msgflo --help
#
# Stage 1 builds the workspace's release binaries; stage 2 is a slim Debian
# with only them and the CA certificates (amqps://, mqtts://, --ping-url).

FROM rust:1.89-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --workspace --bins \
 && mkdir -p /out/bin \
 && find target/release -maxdepth 1 -type f -perm -u+x -name 'msgflo*' -exec cp {} /out/bin/ \;

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /app msgflo
COPY --from=build /out/bin/ /usr/local/bin/
COPY examples/ /app/examples/
WORKDIR /app
USER msgflo
# The FBP protocol (Flowhub / noflo-ui): msgflo --host 0.0.0.0 listens here.
EXPOSE 3569
ENV RUST_LOG=warn,lapin=off
CMD ["msgflo", "--host", "0.0.0.0"]
