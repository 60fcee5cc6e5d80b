/**
 * Verifications (DESIGN §10): the statuses, the limits, the built-in templates and the masked body.
 * The code itself never appears here or in any stored text: a body is rendered with the code's
 * place masked (`******`), and the submit activity puts the digits in just before the carrier call
 * (services/verification-codes.ts derives them).
 */

export const VERIFICATION_STATUSES = ['pending', 'approved', 'expired', 'failed', 'canceled'] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

/** Checks a verification allows; the last wrong one fails it. */
export const MAX_CHECKS = 5;
/** Sends, the first included. */
export const MAX_SENDS = 5;
/** Least time between two sends of one verification, ms. */
export const RESEND_COOLDOWN_MS = 30_000;
export const CODE_LENGTH = { min: 4, max: 10, default: 6 } as const;
export const TTL_SECONDS = { min: 60, max: 3600, default: 600 } as const;
/** What stands for the code in every stored body. */
export const CODE_MASK_CHAR = '*';

export const VERIFICATION_LOCALES = ['en', 'es', 'fr', 'de', 'pt', 'ko', 'ja', 'zh'] as const;
export type VerificationLocale = (typeof VERIFICATION_LOCALES)[number];

/** Built-in templates: `{{code}}`, and `{{appName}}` where the app has a name. */
const TEMPLATES: Readonly<Record<VerificationLocale, { readonly named: string; readonly plain: string }>> = {
  en: {
    named: 'Your {{appName}} verification code is {{code}}',
    plain: 'Your verification code is {{code}}',
  },
  es: {
    named: 'Tu código de verificación de {{appName}} es {{code}}',
    plain: 'Tu código de verificación es {{code}}',
  },
  fr: {
    named: 'Votre code de vérification {{appName}} est {{code}}',
    plain: 'Votre code de vérification est {{code}}',
  },
  de: {
    named: 'Ihr {{appName}} Bestätigungscode lautet {{code}}',
    plain: 'Ihr Bestätigungscode lautet {{code}}',
  },
  pt: {
    named: 'Seu código de verificação {{appName}} é {{code}}',
    plain: 'Seu código de verificação é {{code}}',
  },
  ko: { named: '[{{appName}}] 인증번호는 {{code}} 입니다', plain: '인증번호는 {{code}} 입니다' },
  ja: { named: '{{appName}}の認証コードは {{code}} です', plain: '認証コードは {{code}} です' },
  zh: { named: '您的{{appName}}验证码是 {{code}}', plain: '您的验证码是 {{code}}' },
};

/** The template a verification uses: the account's own, else the locale's (named when there is an app name). */
export function verificationTemplate(opts: {
  readonly locale: VerificationLocale;
  readonly appName?: string | null;
  readonly template?: string | null;
}): string {
  if (opts.template) return opts.template;
  const t = TEMPLATES[opts.locale];
  return opts.appName ? t.named : t.plain;
}

/** The body as stored and queued: the code's place masked, and where the code goes in it. */
export interface MaskedBody {
  readonly body: string;
  /** Index (UTF-16) of the first masked character. */
  readonly codeOffset: number;
  readonly codeLength: number;
}

/**
 * Renders `template` with `{{appName}}` and the first `{{code}}` (a template has exactly one),
 * the code masked. Any other `{{…}}` stays as written.
 */
export function renderMaskedBody(template: string, appName: string | null, codeLength: number): MaskedBody {
  const at = template.indexOf('{{code}}');
  if (at < 0) throw new Error('a verification template needs {{code}}');
  const fill = (text: string): string => text.replaceAll('{{appName}}', appName ?? '');
  const before = fill(template.slice(0, at));
  const after = fill(template.slice(at + '{{code}}'.length));
  return {
    body: `${before}${CODE_MASK_CHAR.repeat(codeLength)}${after}`,
    codeOffset: before.length,
    codeLength,
  };
}

/** The body with the code in its masked place; refuses a body whose mask is not where it was put. */
export function withCode(masked: MaskedBody, code: string): string {
  const mask = masked.body.slice(masked.codeOffset, masked.codeOffset + masked.codeLength);
  if (code.length !== masked.codeLength || mask !== CODE_MASK_CHAR.repeat(masked.codeLength)) {
    throw new TypeError('the verification body does not hold its masked code');
  }
  return masked.body.slice(0, masked.codeOffset) + code + masked.body.slice(masked.codeOffset + code.length);
}

/** A submitted code's shape: digits only, the verification's length. */
export function isWellFormedCode(code: string, length: number): boolean {
  return code.length === length && /^[0-9]+$/.test(code);
}

/** Equal strings, compared in time that depends on their length only (the workflow compares proofs). */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i % Math.max(1, b.length));
  return diff === 0 && a.length > 0;
}
