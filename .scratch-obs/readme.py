p='README.md'
s=open(p).read()
def rep(old,new):
    global s
    assert s.count(old)==1, old
    s=s.replace(old,new)
rep("""| `CALLBACK_TIMEOUT_MS`                  | `10000`                                                 | worker: timeout of one callback request             |
""","""| `CALLBACK_TIMEOUT_MS`                  | `10000`                                                 | worker: timeout of one callback request             |
| `WORKER_METRICS_PORT`                  | unset: no metrics server (image: `9464`)                | worker: Prometheus `/metrics`                       |
| `WORKER_METRICS_HOST`                  | `127.0.0.1` (image: `0.0.0.0`)                          | worker: interface of the metrics server             |
| `WORKFLOW_BUNDLE_PATH`                 | unset: bundle at start (image: prebuilt)                | worker: prebuilt workflow bundle                    |
""")
rep("""| `GET /healthz`, `GET /readyz`             | liveness; readiness checks the database and Temporal                                                                                                |
""","""| `GET /healthz`, `GET /readyz`             | liveness; readiness checks the database and Temporal                                                                                                |
| `GET /metrics`                            | Prometheus text (see "Metrics and logs")                                                                                                            |
| `GET /openapi.json`, `GET /docs`          | the OpenAPI 3.1 reference, and Swagger UI over it (served from the installed `swagger-ui-dist`, no CDN)                                             |
""")
rep("""## Layout
""","""## Metrics and logs

**API `GET /metrics`** (prom-client, a registry per app instance). Business metrics are read from
the database at scrape time with a few aggregate queries, so they describe the whole deployment
and survive restarts; every API instance reports the same values (aggregate with `max`, or scrape
one instance). Counters come from rows that are only ever added, so they are monotonic.

| metric                                                 | what                                                                      |
| ------------------------------------------------------ | ------------------------------------------------------------------------- |
| `herald_messages{status,carrier}` gauge                | messages by current status and carrier (`none` before one is chosen)     |
| `herald_submit_duration_seconds{carrier,outcome}` hist | carrier submit round trip of finished attempts                           |
| `herald_receipt_latency_seconds{carrier}` hist         | accepted submit → first receipt (an early receipt counts 0)              |
| `herald_failovers_total{from,to}`                      | a message's next attempt went to another carrier                          |
| `herald_route_circuit_open{carrier,country}`           | 1 when a route has 5+ consecutive failures                                |
| `herald_ledger_micros_total{kind}`                     | sum of ledger entries by kind (credit, reserve, capture, release, refund) |
| `herald_balance_micros{state}`                         | sum over accounts of available / reserved                                 |
| `herald_callback_attempts_total{outcome}`              | status callback attempts; failures are `failed`, `refused`, `abandoned`   |
| `herald_api_*`                                         | Node process metrics                                                      |

**Worker metrics** (`WORKER_METRICS_PORT`, `GET /metrics`): measured where the work happens by an
activity interceptor (`workers/activity-telemetry.ts`) — `herald_worker_submit_duration_seconds
{carrier,outcome}`, `herald_worker_failovers_total{from,to}`,
`herald_worker_activity_duration_seconds{activity,result}`, `herald_worker_*` process metrics —
followed by the **Temporal runtime's own metrics** (`temporal_*`: task latencies, pollers, sticky
cache …), which the runtime exports on an internal 127.0.0.1 port that this server reads and
appends, so one scrape target covers the worker.

**Logs** are JSON lines through pino (`observability/logger.ts`): `{ level, time, service, msg,
…fields }` on stdout. The API logs one line per request (route pattern, never the query string;
status, duration, `messageId` when the answer names one). The worker routes the Temporal runtime's
logger into the same pino logger, so SDK and core messages, activity logs (with `workflowId`,
`activityType`, `attempt`) and workflow `log` calls are JSON too; each activity logs its
`messageId` and duration (`submit finished` with carrier and outcome). A phone number or a body
never appears in clear: `to`, `from`, `body`, `text` (and the Twilio spellings, one level down)
are redacted, and any `+` and 7–15 digits in any string is masked (`+1415•••2671`).

## Production

`docker-compose.yml` runs the production shape from one image (`Dockerfile`):

| service          | what                                                                                                      |
| ---------------- | --------------------------------------------------------------------------------------------------------- |
| `postgres`       | PostgreSQL 16 for Herald and Temporal (volume `postgres-data`); health: `pg_isready`                      |
| `temporal`       | `temporalio/auto-setup` on that PostgreSQL (`DB=postgres12`); health: `temporal operator cluster health` |
| `temporal-setup` | one shot: registers the `Herald*` search attributes                                                       |
| `temporal-ui`    | the Temporal UI on :8080, codec endpoint `http://localhost:8888`                                          |
| `migrate`        | one shot: `scripts/migrate.ts`; the API and worker start after it succeeds                                |
| `api`            | `api/main.ts` on :3000; health: `/readyz`                                                                 |
| `worker`         | `workers/main.ts` with the prebuilt workflow bundle; metrics on :9464, which is its health check          |
| `codec`          | the codec server on :8888 for the UI; health: `/healthz`                                                  |

```sh
cat > .env <<EOF
POSTGRES_PASSWORD=$(openssl rand -hex 16)
ADMIN_API_KEY=$(openssl rand -hex 24)
HERALD_CODEC_KEYS=k1:$(openssl rand -base64 32)
CODEC_TOKEN=$(openssl rand -hex 24)
PUBLIC_BASE_URL=https://herald.example.com
EOF
docker compose up -d --build
```

Compose refuses to start while a secret is missing; `PUBLIC_BASE_URL` is where carriers reach the
API's webhooks. The image is `node:20-bookworm-slim` (glibc: the Temporal SDK's native bridge has
no musl build), runs the TypeScript sources with `tsx` (a runtime dependency) as the `node` user,
and builds the workflow bundle at image build time (`scripts/bundle-workflows.ts` →
`dist/workflow-bundle.js`, used through `WORKFLOW_BUNDLE_PATH`), so workers start without webpack.
In the UI, payloads show as ciphertext until an operator with the token sets the codec endpoint to
`http://localhost:8888/t/<CODEC_TOKEN>` in the UI's codec settings. Carriers are added to the
database (`npm run carrier:add`) before they get a task queue. Keep `/metrics` (API :3000, worker
:9464) on the internal network: it is unauthenticated.

Docker does not run where Herald is built: `test/unit/compose.test.ts` parses the compose file and
checks services, health checks, start order, and that every variable a Herald service sets is one
`config/env.ts` reads, with each entry point's required ones present. The image and compose file
have not been run here; the Temporal health command assumes the `auto-setup` image ships the
`temporal` CLI.

## Layout
""")
rep("""As DESIGN §2, plus `config/` (environment parsing shared by every process) and `services/`:""","""As DESIGN §2, plus `config/` (environment parsing shared by every process), `services/` and
`observability/`:""")
rep("""bench/       send-bench and its reports in bench/results/
test/        unit/, integration/, e2e/, fixtures/, support/""","""observability/  pino logger with redaction and number masking; the Temporal runtime logger over it
bench/       send-bench and its reports in bench/results/
test/        unit/, integration/, e2e/, fixtures/, support/""")
rep("""- `test/e2e/start.test.ts` — `npm start`'s own script""","""- `test/integration/observability.test.ts` — a message through the whole stack: the API's and the
  worker's `/metrics` (with the Temporal runtime's) parse strictly as Prometheus text and move; the
  API's and worker's JSON logs carry the message and workflow id but never the number or body.
- `test/unit/openapi.test.ts` — `/openapi.json` is structurally valid OpenAPI 3.1, lists every
  Express route (walked from the app's router) and nothing else, its examples parse with the zod
  schemas; `/docs` serves Swagger UI from `node_modules`.
- `test/unit/compose.test.ts`, `test/unit/log.test.ts` — the production files against the config
  schema; redaction and masking.
- `test/e2e/start.test.ts` — `npm start`'s own script""")
open(p,'w').write(s)
