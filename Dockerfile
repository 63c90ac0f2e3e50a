# syntax=docker/dockerfile:1
# Multi-stage: compile TypeScript with dev dependencies, then run on production dependencies only, as a
# non-root user. The compose stack points DATABASE_URL at its Postgres, so the embedded one is not started.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsconfig also includes tests/ and bench/; .dockerignore leaves them out, so only src/ is compiled.
RUN npx tsc -p tsconfig.json

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
# Migrations are read at start-up from src/db/migrations (SQL files, not compiled).
COPY src/db/migrations ./src/db/migrations
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--max-old-space-size=1024", "--no-allocation-site-pretenuring", "--enable-source-maps", "--import", "./dist/src/telemetry/instrumentation.js", "dist/src/main.js"]
