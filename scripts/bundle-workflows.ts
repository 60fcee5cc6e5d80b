/**
 * `npx tsx scripts/bundle-workflows.ts [out]`: writes the workflow bundle (with Herald's failure
 * converter) to `dist/workflow-bundle.js`, so production workers start without webpack
 * (`WORKFLOW_BUNDLE_PATH`). The container image runs it at build time.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { buildWorkflowBundle } from '../workers/run-workers.ts';

/** Default output, relative to the project root. */
export const DEFAULT_BUNDLE_PATH = 'dist/workflow-bundle.js';

const projectRoot = resolve(import.meta.dirname, '..');
const out = resolve(projectRoot, process.argv[2] ?? DEFAULT_BUNDLE_PATH);
const bundle = await buildWorkflowBundle();
await mkdir(dirname(out), { recursive: true });
await writeFile(out, bundle.code);
console.log(`workflow bundle: ${out} (${Math.round(bundle.code.length / 1024)} KiB)`);
