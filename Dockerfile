# leasekeeper's image. Build stage: the locked dependencies (npm ci) and the TypeScript compiler turn
# the sources into JavaScript in dist/ (npm run build, tsconfig.build.json). Runtime stage: Node.js 24
# slim, production dependencies only (no TypeScript, no loader), the compiled dist/, a non-root user;
# a read-only root filesystem in mind (writes go to /tmp).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY functions ./functions
COPY workers ./workers
COPY shared ./shared
COPY cli ./cli
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER 65532:65532
EXPOSE 8080 8443
# The on-call CLI is in the image too: node dist/cli/main.js <command> (e.g. keys verify).
# Heap sizing (docs/benchmark.md): a 2 MiB semi-space keeps the young generation small, and the old
# generation is capped well inside the Deployment's memory limit, with room for 10,000 pods.
ENTRYPOINT ["node", "--max-old-space-size=192", "--max-semi-space-size=2", "dist/functions/entry/node.js"]
