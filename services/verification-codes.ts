/**
 * Verification codes, derived and never kept (DESIGN §10): the code is an HMAC-SHA256 of the
 * verification id under the server's secret (`VERIFY_SECRET`), so a resend sends the same code and
 * nothing stores it. A check never carries the code to Temporal either: the API turns the submitted
 * code into a keyed proof (another HMAC), and the workflow compares proofs in constant time.
 */
import { createHmac } from 'node:crypto';

/** The code of verification `id`: `length` decimal digits (4–10). */
export function deriveCode(secret: string, id: string, length: number): string {
  const digest = createHmac('sha256', secret).update(`herald-verify-code:${id}`).digest();
  // 64 bits mod 10^length: the bias (< 10^10 / 2^64) is far below anything a guesser can use.
  const value = digest.readBigUInt64BE(0) % 10n ** BigInt(length);
  return value.toString().padStart(length, '0');
}

/** The proof of `code` for verification `id` (hex): what a check hands the workflow. */
export function checkProof(secret: string, id: string, code: string): string {
  return createHmac('sha256', secret).update(`herald-verify-check:${id}:${code}`).digest('hex');
}

/** The proof a right check carries. */
export function expectedProof(secret: string, id: string, length: number): string {
  return checkProof(secret, id, deriveCode(secret, id, length));
}
