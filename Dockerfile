# sctp-guard admission webhook: docker build -t sctp-guard:0.1.0 .
# The deploy/ manifests run this image (the tag is the package.json version).

# Build: every dependency, the TypeScript compiled to dist/.
# --ignore-scripts: package.json's `prepare` would run tsc before the sources are copied in.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Production dependencies only: no compiler, no test tools.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Runtime: compiled JS and production node_modules, owned by root and run by an unprivileged numeric user, so
# that Kubernetes can check runAsNonRoot (and OpenShift may pick another UID: everything is world-readable).
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
USER 65532:65532
EXPOSE 8443 8080 8081
ENTRYPOINT ["node", "dist/src/cli/main.js", "serve"]
