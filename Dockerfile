# leasekeeper's image: the TypeScript sources run with tsx (no build step), production
# dependencies only, as a non-root user with a read-only root filesystem in mind (writes go to /tmp).
FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY functions ./functions
COPY workers ./workers
COPY shared ./shared
COPY cli ./cli
COPY tsconfig.json ./
USER 65532:65532
EXPOSE 8080 8443
ENTRYPOINT ["node", "--import", "tsx", "functions/entry/node.ts"]
