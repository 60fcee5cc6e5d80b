/**
 * Reading carrier payloads without trusting them: XML parsed safely (no DOCTYPE, well-formedness
 * checked first), JSON and form bodies, and a tiny dot-path getter over the parsed tree. Shared
 * by the configured carriers and any adapter that reads XML.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseJsonSafe } from './http.ts';

/** Body formats a carrier may use. */
export type PayloadFormat = 'json' | 'xml' | 'form';

/** Attribute keys carry this prefix in parsed XML (`messages.@_count`). */
export const XML_ATTRIBUTE_PREFIX = '@_';

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: XML_ATTRIBUTE_PREFIX,
  // Ids such as "0012AB" must stay strings: never let the parser turn text into numbers.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
});

/**
 * Parses an XML document; undefined when it is empty, not well-formed (truncated, garbage) or
 * declares a DOCTYPE (entity expansion is never worth the risk in a carrier payload).
 */
export function parseXmlSafe(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '' || !trimmed.startsWith('<')) return undefined;
  if (/<!DOCTYPE|<!ENTITY/i.test(trimmed)) return undefined;
  if (XMLValidator.validate(trimmed) !== true) return undefined;
  try {
    return xmlParser.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

/** Form fields as an object, first value of each key; undefined when the body is empty. */
export function parseFormSafe(text: string): Record<string, string> | undefined {
  if (text.trim() === '') return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(text)) if (!(k in out)) out[k] = v;
  return out;
}

/** Parses a body in `format`; undefined when it cannot be read as such. */
export function parsePayload(text: string, format: PayloadFormat): unknown {
  if (format === 'xml') return parseXmlSafe(text);
  if (format === 'form') return parseFormSafe(text);
  return parseJsonSafe(text);
}

/** One step of a path: a key, or an index into an array. */
type Step = { readonly key: string } | { readonly index: number };

const SEGMENT = /^([^.[\]]*)((?:\[\d+\])*)$/;

/**
 * Splits `a.b[1].c` into steps. Keys may hold any character but `.`, `[` and `]` (so
 * `mt-submission-response` and `@_count` work). Throws on a malformed path.
 */
export function parsePath(path: string): Step[] {
  if (path.trim() === '') throw new Error('path is empty');
  const steps: Step[] = [];
  for (const segment of path.split('.')) {
    const m = SEGMENT.exec(segment);
    if (!m || (m[1] === '' && m[2] === '')) throw new Error(`bad path segment "${segment}" in "${path}"`);
    if (m[1]) steps.push({ key: m[1] });
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) steps.push({ index: Number(idx[1]) });
  }
  return steps;
}

/** True when `path` is a well-formed path for {@link valueAt}. */
export function isValidPath(path: string): boolean {
  try {
    parsePath(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The value at `path` in a parsed payload. Arrays met on the way (XML elements that repeat, JSON
 * lists) resolve to their first element unless the path indexes them (`messages[1]`); the value
 * at the end is returned as is.
 */
export function valueAt(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const step of parsePath(path)) {
    if ('index' in step) {
      node = Array.isArray(node) ? node[step.index] : step.index === 0 ? node : undefined;
      continue;
    }
    if (Array.isArray(node)) node = node[0];
    if (typeof node !== 'object' || node === null) return undefined;
    node = Object.hasOwn(node, step.key) ? (node as Record<string, unknown>)[step.key] : undefined;
  }
  return node;
}

/**
 * The scalar at `path` as a string (numbers and booleans stringified, an XML element with
 * attributes gives its text); undefined when absent, empty or not a scalar.
 */
export function scalarAt(root: unknown, path: string): string | undefined {
  let v = valueAt(root, path);
  if (Array.isArray(v)) v = v[0];
  if (typeof v === 'object' && v !== null && Object.hasOwn(v, '#text'))
    v = (v as { '#text': unknown })['#text'];
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** The items at `path` as a list: an array as is, a single value as a list of one, nothing as []. */
export function itemsAt(root: unknown, path: string): unknown[] {
  const v = valueAt(root, path);
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}
