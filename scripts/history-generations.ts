/**
 * The generations of recorded `sendMessage` histories (test/fixtures/histories/v0, v1, …). Each
 * workflow change that alters commands adds a generation, recorded once and never rewritten: the
 * older ones stand for runs still open in production, and every one must keep replaying.
 */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

export const HISTORIES_DIR = resolve(import.meta.dirname, '../test/fixtures/histories');

const GENERATION = /^v(\d+)$/;

/** Existing generations, oldest first. */
export function historyGenerations(dir: string = HISTORIES_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && GENERATION.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => generationNumber(a) - generationNumber(b));
}

/** The generation a new recording goes to: one past the newest. */
export function nextGeneration(dir: string = HISTORIES_DIR): string {
  const newest = historyGenerations(dir).at(-1);
  return `v${newest === undefined ? 0 : generationNumber(newest) + 1}`;
}

function generationNumber(name: string): number {
  return Number(GENERATION.exec(name)?.[1] ?? Number.NaN);
}
