import { createApp } from '../api/app.ts';
const app = createApp({ db: {} as never, temporal: {} as never, adminApiKey: 'x'.repeat(20), currency: 'USD' });
const r = (app as unknown as { router: { stack: unknown[] } }).router;
for (const l of r.stack as Array<Record<string, unknown>>) console.log(Object.keys(l), l.name, (l.route as {path?:string})?.path, Array.isArray((l.handle as {stack?:unknown})?.stack));
