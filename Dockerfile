# Herald's production image: one image, three roles (API, worker, codec server), chosen by the
# command. glibc (Debian bookworm): the Temporal SDK's native bridge ships glibc binaries only.
# Build:  docker build -t herald .
# Run:    docker compose up   (see README, "Production")

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The workflow bundle is built once here, so workers start without webpack (WORKFLOW_BUNDLE_PATH).
RUN npx tsx scripts/bundle-workflows.ts dist/workflow-bundle.js

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# tsx is a runtime dependency: the processes run the TypeScript sources directly.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --chown=node:node . .
COPY --from=build --chown=node:node /app/dist ./dist
ENV WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    WORKER_METRICS_PORT=9464 \
    WORKER_METRICS_HOST=0.0.0.0 \
    PORT=3000
USER node
EXPOSE 3000 9464 8888
# The API; the worker runs `MALLOC_ARENA_MAX=2 node --max-semi-space-size=4 --heap-growing-percent=50 --import tsx workers/main.ts`,
# the codec server `codec/main.ts`,
# migrations `scripts/migrate.ts`.
CMD ["node", "--import", "tsx", "api/main.ts"]
