# sctp-guard admission webhook: docker build -t sctp-guard:0.1.0 .
# The deploy/ manifests run this image (the tag is the package.json version).
# test/dockerfile.test.ts builds the production layout this file describes and runs it as uid 65532, read-only.

# Build: every dependency, the TypeScript compiled to dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Production dependencies only: no compiler, no test tools, no lifecycle scripts.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Runtime: compiled JS and production node_modules, owned by root and run by an unprivileged numeric user, so
# that Kubernetes can check runAsNonRoot (and OpenShift may pick another UID: everything is world-readable).
# Nothing is written outside /tmp: the root filesystem may be read-only.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/sctp-guard && chmod 0755 /app/dist/src/cli/main.js
USER 65532:65532
EXPOSE 8443 8080 8081
# `docker run IMAGE check -f - < manifests.yaml` replaces the command; the default serves with the certificate
# paths deploy/ mounts (the Secret sctp-guard-tls).
ENTRYPOINT ["sctp-guard"]
CMD ["serve", "--tls-cert=/etc/sctp-guard/tls/tls.crt", "--tls-key=/etc/sctp-guard/tls/tls.key"]
