/**
 * The placeholder syntax of configured carriers' request templates: `{{name}}` (spaces allowed
 * inside the braces), replaced by a value escaped for the body's format. No expressions, no
 * loops, no code: a template can only place known values.
 */
import type { SubmitRequest } from './types.ts';

/** Placeholders every template may use, filled from the `SubmitRequest`. */
export const MESSAGE_PLACEHOLDERS = [
  'to',
  'toDigits',
  'from',
  'fromDigits',
  'body',
  'messageId',
  'callbackUrl',
  'validitySeconds',
  'validityMs',
  'encoding',
  'unicode',
  'segments',
] as const;
export type MessagePlaceholder = (typeof MESSAGE_PLACEHOLDERS)[number];

/** Placeholders whose value is a number: a JSON string leaf that is only this placeholder becomes a number. */
const NUMERIC: ReadonlySet<string> = new Set(['validitySeconds', 'validityMs', 'segments']);

const PLACEHOLDER = /\{\{\s*([A-Za-z][\w.-]*)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z][\w.-]*)\s*\}\}$/;

/** Prefix of placeholders naming the definition's own variables: `{{var.apiUser}}`. */
export const VARIABLE_PREFIX = 'var.';

/** The placeholder names used in a text. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

/** Every string in a JSON-like value (keys and leaves), for validating the placeholders it uses. */
export function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [k, ...stringsIn(v)]);
  }
  return [];
}

/** Why a placeholder name is not allowed, or undefined when it is. */
export function badPlaceholder(
  name: string,
  variables: Readonly<Record<string, string>>,
): string | undefined {
  if (name.startsWith(VARIABLE_PREFIX)) {
    const v = name.slice(VARIABLE_PREFIX.length);
    return Object.hasOwn(variables, v) ? undefined : `unknown variable "${v}" in {{${name}}}`;
  }
  return (MESSAGE_PLACEHOLDERS as readonly string[]).includes(name)
    ? undefined
    : `unknown placeholder {{${name}}} (known: ${MESSAGE_PLACEHOLDERS.join(', ')}, var.<name>)`;
}

/** The values of the placeholders for one message (all strings; see {@link NUMERIC}). */
export function placeholderValues(
  req: SubmitRequest,
  variables: Readonly<Record<string, string>>,
): Record<string, string> {
  const values: Record<MessagePlaceholder, string> = {
    to: req.to,
    toDigits: req.to.replace(/^\+/, ''),
    from: req.from,
    fromDigits: /^\+\d+$/.test(req.from) ? req.from.slice(1) : req.from,
    body: req.body,
    messageId: req.messageId,
    callbackUrl: req.statusCallbackUrl,
    validitySeconds: String(Math.max(0, Math.floor(req.validitySeconds))),
    validityMs: String(Math.max(0, Math.floor(req.validitySeconds)) * 1000),
    encoding: req.encoding,
    unicode: String(req.encoding === 'UCS-2'),
    segments: String(req.segments),
  };
  const out: Record<string, string> = { ...values };
  for (const [k, v] of Object.entries(variables)) out[VARIABLE_PREFIX + k] = v;
  return out;
}

/** Replaces every placeholder in `text`, escaping each value with `escape`. Unknown names throw. */
export function renderText(
  text: string,
  values: Readonly<Record<string, string>>,
  escapeValue: (value: string) => string = (v) => v,
): string {
  return text.replace(PLACEHOLDER, (_all, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`unknown placeholder {{${name}}}`);
    return escapeValue(v);
  });
}

/**
 * Renders a JSON template: placeholders inside keys and string leaves are substituted (JSON
 * escaping comes from `JSON.stringify`); a leaf that is exactly one numeric placeholder
 * (`"{{validitySeconds}}"`) becomes a number.
 */
export function renderJson(template: unknown, values: Readonly<Record<string, string>>): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(template);
    if (whole?.[1] !== undefined && NUMERIC.has(whole[1])) return Number(values[whole[1]]);
    return renderText(template, values);
  }
  if (Array.isArray(template)) return template.map((t) => renderJson(t, values));
  if (typeof template === 'object' && template !== null) {
    return Object.fromEntries(
      Object.entries(template).map(([k, v]) => [renderText(k, values), renderJson(v, values)]),
    );
  }
  return template;
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Control characters XML 1.0 cannot carry at all, even escaped. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to drop
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escapes text for XML content and attribute values (both quote styles); drops characters XML forbids. */
export function escapeXml(value: string): string {
  return value.replace(XML_FORBIDDEN, '').replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}
