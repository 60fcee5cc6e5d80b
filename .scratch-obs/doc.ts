import { buildOpenApiDocument } from '../api/openapi.ts';
const d = buildOpenApiDocument() as any;
console.log(JSON.stringify(d.paths['/v1/messages'].get.parameters), Object.keys(d.paths).length);
console.log(JSON.stringify(d.paths['/v1/accounts/{id}/credits'].post).slice(0,600));
