# dis-exporter container image.
#
#   docker build --build-arg VERSION=$(node -p "require('./package.json').version") \
#                --build-arg REVISION=$(git rev-parse HEAD) -t dis-exporter .
#   docker run -p 9873:9873 -v $PWD/my-config.yaml:/etc/dis-exporter/config.yaml:ro \
#              -e HUAWEICLOUD_SDK_AK -e HUAWEICLOUD_SDK_SK dis-exporter
#
# Configuration: the exporter reads /etc/dis-exporter/config.yaml (env DIS_EXPORTER_CONFIG). The image ships
# that file with comments only, so an image run without a mounted file is configured purely by environment
# variables (DIS_ENDPOINT, HUAWEICLOUD_SDK_PROJECT_ID, HUAWEICLOUD_SDK_AK/SK, DIS_TARGETS, ...; see README);
# mount your own file (or a Kubernetes ConfigMap as the directory /etc/dis-exporter) over it to use a file.
# Environment variables win over the file. DIS_EXPORTER_CONFIG="" also means "no file".
#
# The image runs as uid/gid 65534 (nobody), writes nothing outside /tmp (fine with a read-only root file
# system), needs no capabilities, and runs node as PID 1 in exec form: the exporter handles SIGTERM itself
# (stops polling, finishes in-flight scrapes, exits 0), so no init process is needed. (PID 1 ignores signals it
# has no handler for: the exporter must subscribe to SIGTERM before its slow start-up steps, or a stop sent
# in its first second would wait for the SIGKILL.)

# Node.js 24, the current LTS line (20 reached its end of life in April 2026). It also matters for speed: Node 20's V8
# builds the options object got hands to node:http for every request on a slow path, which costs a large fleet's
# poll cycle CPU time and young-generation collections that Node 24 does not spend (docs/benchmarks.md ("Node.js 24,
# as the container image runs it")).

# --- build: compile TypeScript, stamp the revision, then drop the dev dependencies -------------------------
# On the builder's own platform, also when building for others (docker buildx --platform linux/amd64,linux/arm64,
# as the release workflow does): what it makes runs on any platform (JavaScript, and production dependencies with
# no native code, which test/deploy/workflows.test.ts checks), and the runtime stage below only copies, so a
# multi-platform build emulates nothing.
FROM --platform=$BUILDPLATFORM node:24-alpine AS build
WORKDIR /build
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/write-build-info.mjs scripts/
COPY src/ src/
# The git revision for dis_exporter_build_info{revision} (there is no .git in the build context).
ARG REVISION=unknown
RUN DIS_EXPORTER_REVISION="${REVISION}" npm run build \
 && rm -rf dist/test \
 && find dist -name '*.map' -exec rm -f {} + \
 && npm prune --omit=dev --no-audit --no-fund \
 && find node_modules -mindepth 1 -maxdepth 1 -type d -empty -exec rmdir {} + \
 && mkdir -p /out/etc/dis-exporter \
 && printf '%s\n' \
      '# dis-exporter configuration: mount your own file here (YAML or JSON, see config/dis-exporter.example.yaml).' \
      '# This placeholder holds no settings, so the defaults and the environment variables apply' \
      '# (DIS_ENDPOINT, HUAWEICLOUD_SDK_PROJECT_ID, HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, DIS_TARGETS, ...).' \
      > /out/etc/dis-exporter/config.yaml

# --- runtime -------------------------------------------------------------------------------------------------
FROM node:24-alpine
ARG VERSION=unknown
ARG REVISION=unknown
# The repository URL: pass --build-arg SOURCE=<url of your clone> when it differs.
ARG SOURCE=https://github.com/dis-exporter/dis-exporter
LABEL org.opencontainers.image.title="dis-exporter" \
      org.opencontainers.image.description="Prometheus exporter for Huawei Cloud DIS dump (transfer) tasks" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production \
    DIS_EXPORTER_CONFIG=/etc/dis-exporter/config.yaml
COPY --from=build /build/package.json ./
COPY --from=build /build/node_modules/ node_modules/
COPY --from=build /build/dist/ dist/
COPY config/ config/
COPY --from=build /out/etc/dis-exporter/config.yaml /etc/dis-exporter/config.yaml
USER 65534:65534
EXPOSE 9873
# node, not curl/wget (the base has neither); follows DIS_EXPORTER_PORT, and DIS_EXPORTER_HOST unless it is a
# wildcard address. A port set only in the config file is not seen here: set DIS_EXPORTER_PORT as well. When the
# server speaks HTTPS (a web config with tls_server_config) the plain request fails and HTTPS is tried, without
# checking the certificate: this only asks whether the process is alive. With client_auth_type
# RequireAnyClientCert or RequireAndVerifyClientCert it cannot connect: turn the health check off then.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const e=process.env,h=e.DIS_EXPORTER_HOST,p=e.DIS_EXPORTER_PORT||'9873';const host=!h||h==='0.0.0.0'||h==='::'?'127.0.0.1':h.includes(':')?'['+h+']':h;const get=(s,o)=>require('node:'+s).get(s+'://'+host+':'+p+'/-/healthy',{timeout:4000,...o},r=>process.exit(r.statusCode===200?0:1)).on('timeout',()=>process.exit(1));get('http',{}).on('error',()=>get('https',{rejectUnauthorized:false}).on('error',()=>process.exit(1)))"]
# --max-semi-space-size=8: Node 22+ lets V8's young generation grow to 64 MB semi-spaces (192 MB reserved beside the
# old generation). Under the chart's heap cap (--max-old-space-size) that left too little room for the old
# generation: V8 collected almost without pause and a large fleet's poll cycle took far longer than its ideal; 8 MB
# semi-spaces bring it back near the ideal (docs/benchmarks.md ("Node.js 24, as the container image runs it")).
# A flag on the command line, not NODE_OPTIONS, so the chart's NODE_OPTIONS (the heap cap) adds to it.
ENTRYPOINT ["node", "--max-semi-space-size=8", "dist/src/main.js"]
CMD []
