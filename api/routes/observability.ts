/** Operations: `/metrics` (Prometheus), `/openapi.json` and the interactive reference at `/docs`. */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { Router } from 'express';
import type { Registry } from 'prom-client';
import { buildOpenApiDocument } from '../openapi.ts';

/** Swagger UI's static files, served from the installed package (no CDN). */
const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Relative URLs throughout, so the page works behind a proxy that mounts the API under a prefix. */
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Herald API reference</title>
  <link rel="stylesheet" href="swagger-ui.css">
  <link rel="icon" type="image/png" href="favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: '../openapi.json', dom_id: '#swagger-ui', deepLinking: true });
  </script>
</body>
</html>
`;

/** The operations routes; `metrics` is the app's own registry (api/metrics.ts). */
export function observabilityRoutes(metrics: Registry): Router {
  const router = Router();
  // Built once: the document only changes with the code.
  const openapi = JSON.stringify(buildOpenApiDocument());

  router.get('/metrics', async (_req, res) => {
    const text = await metrics.metrics();
    res.type(metrics.contentType).send(text);
  });

  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openapi);
  });

  router.get('/docs', (req, res) => {
    if (!req.originalUrl.split('?')[0]?.endsWith('/')) {
      res.redirect(301, 'docs/');
      return;
    }
    res.type('html').send(DOCS_PAGE);
  });
  router.use('/docs', express.static(SWAGGER_UI_DIR, { index: false, maxAge: '1h' }));

  return router;
}
