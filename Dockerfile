# msgflo-rs: every binary (msgflo, msgflo-participant, msgflo-examples and
# the msgflo-* CLI tools) in one small image.
#
#   docker build -t msgflo-rs .
#   docker run --rm msgflo-rs msgflo --help
#
# The dependencies are compiled in a layer of their own (cargo-chef: it
# changes only with a Cargo.toml or Cargo.lock), so a change to the sources
# recompiles only msgflo-rs' own crates. The binaries are stripped. The last
# stage is a slim Debian with only them and the CA certificates (amqps://,
# mqtts://, --ping-url). Works with the classic builder too (no BuildKit
# features), as Compose v1 uses it.

FROM rust:1.89-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

# What the dependencies need: the manifests, lock file and targets.
FROM chef AS plan
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
ENV CARGO_PROFILE_RELEASE_STRIP=symbols
COPY --from=plan /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --workspace --bins --recipe-path recipe.json
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
