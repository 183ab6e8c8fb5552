# Trustgate gateway image: Node 24 slim, production dependencies only, runs as the non-root "node" user.
# The config is mounted from outside:  docker run -v ./trustgate.yaml:/etc/trustgate/trustgate.yaml:ro ...
# with every secret it reads in the environment (there are no fallbacks; see README "Running it for real").
FROM node:24-slim

ENV NODE_ENV=production
WORKDIR /app

COPY package.json package-lock.json ./
# --omit=dev leaves out the test tools, the development IdP and the "node" package the dev scripts use
# to bring Node 24 to older machines (this image already has it).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

COPY src ./src
COPY views ./views
COPY config/example.yaml config/trust-profile.yaml ./config/
# Session revocations, grants, the audit trail and its spool default to var/ (relative to /app); the
# production example (config/example.yaml) keeps the audit trail in /var/lib/trustgate. Both exist and
# belong to "node", so a volume mounted on either starts out writable for it.
RUN mkdir -p /app/var /var/lib/trustgate && chown node:node /app/var /var/lib/trustgate

USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/.trustgate/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "--disable-warning=DEP0060", "src/main.ts"]
CMD ["serve", "/etc/trustgate/trustgate.yaml"]
