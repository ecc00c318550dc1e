# One image for all four tskube services; compose picks the entry point:
#   node services/{apiserver,scheduler,controller-manager,kubelet}/dist/main.js
#
# BASE_IMAGE must be present locally or pullable: offline machines pass the stand-in from
# /var/cache/offline-images/images.env (local/node:20, busybox userland: plain sh only, so
# every RUN here is POSIX sh with busybox tools). No `# syntax=` line on purpose: that
# would pull a frontend image; the engine's built-in frontend (or the legacy builder) is used.
#
# Stages: manifests (package files only) -> prod-deps (npm ci --omit=dev) and build
# (npm ci, gen, tsc) -> runtime (prod node_modules + compiled dist + proto). Dependency
# layers depend only on the package files, so a source change rebuilds from `COPY sources`.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS manifests
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
# every workspace's package.json (npm ci needs all workspaces listed in package.json)
COPY packages/log/package.json packages/log/
COPY packages/component/package.json packages/component/
COPY packages/api/package.json packages/api/
COPY packages/storage/package.json packages/storage/
COPY packages/client/package.json packages/client/
COPY services/apiserver/package.json services/apiserver/
COPY services/scheduler/package.json services/scheduler/
COPY services/controller-manager/package.json services/controller-manager/
COPY services/kubelet/package.json services/kubelet/
COPY test/package.json test/
COPY bench/package.json bench/

FROM manifests AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund

FROM manifests AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.base.json ./
COPY proto proto
COPY packages packages
COPY services services
# The root `build` script also compiles test/ and bench/, which the image does not ship:
# run its generator step, then compile only the services (and the packages they reference).
RUN npm run gen --workspace @tskube/api \
 && npx tsc -b services/apiserver services/scheduler services/controller-manager services/kubelet
# Assemble what the runtime needs under /out: each workspace's package.json and dist
# (without tests and type declarations), the api package's generated files, proto/.
RUN set -e; mkdir -p /out; \
    for d in packages/* services/*; do \
      mkdir -p "/out/$d"; cp "$d/package.json" "/out/$d/"; \
      if [ -d "$d/dist" ]; then cp -R "$d/dist" "/out/$d/dist"; fi; \
    done; \
    if [ -d packages/api/generated ]; then cp -R packages/api/generated /out/packages/api/; fi; \
    cp -R proto /out/proto; \
    find /out \( -name '*.test.js' -o -name '*.test.js.map' -o -name '*.d.ts' -o -name '*.d.ts.map' \) -exec rm -f {} +

FROM ${BASE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=prod-deps /app/ ./
COPY --from=build /out/ ./
COPY scripts/healthcheck.mjs scripts/
EXPOSE 6443
CMD ["node", "services/apiserver/dist/main.js"]
