# The worker image CodeBuild runs (./bin/deploy_image.sh builds and pushes it).
# Stage 1 builds the bundles with the same commands CI runs; stage 2 carries only the bundles,
# git and the tools deploy commands use (the CDK CLI here; add yours).

# Node 22: the AWS SDK for JavaScript v3 drops Node 20 in 2027.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM ${NODE_IMAGE}
# The CDK CLI that can read aws-cdk-lib 2.x cloud assemblies (keep in step with package.json).
ARG CDK_CLI_VERSION=2.1148.1
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
  && rm -rf /var/lib/apt/lists/* \
  && npm install --global "aws-cdk@${CDK_CLI_VERSION}" \
  && npm cache clean --force
# The bundles are ES modules (entries and their chunks): the package.json beside them says so.
COPY --from=build /src/dist/worker.js /src/dist/cli.js /opt/iwomp/
COPY --from=build /src/dist/chunks/ /opt/iwomp/chunks/
RUN printf '{"type":"module"}\n' > /opt/iwomp/package.json \
  && ln -s /opt/iwomp/worker.js /usr/local/bin/iwomp-worker \
  && ln -s /opt/iwomp/cli.js /usr/local/bin/iwomp
# The seed's non-root user: the deploy command never runs as root.
RUN groupadd --gid 10101 cdk && useradd --create-home --home-dir /project --gid cdk --uid 10101 cdk
USER cdk:cdk
WORKDIR /project
ENTRYPOINT ["iwomp-worker"]
