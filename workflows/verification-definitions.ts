/**
 * What the verification workflow shares with the API that starts and asks it (DESIGN §10): its
 * name and id scheme, its input, and the Updates a check, a resend and a cancel are.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { VerificationStatus } from '../domain/verification.ts';

/** Workflow type name of workflows/verify.ts. */
export const VERIFY_WORKFLOW = 'verify';

/** One run per verification. */
export const verifyWorkflowId = (verificationId: string): string => `verify-${verificationId}`;

export interface VerifyInput {
  readonly verificationId: string;
  readonly accountId: string;
  /** End of the code's lifetime, epoch ms. */
  readonly expiresAt: number;
  /** The proof a right check carries (services/verification-codes.ts): never the code. */
  readonly expectedProof: string;
}

/** What every Update answers: the state after it. */
export interface VerificationState {
  readonly status: VerificationStatus;
  readonly checksLeft: number;
  readonly sendsLeft: number;
}

/** A check: the keyed proof of the submitted code (64 hex), never the code itself. */
export const checkUpdate = defineUpdate<VerificationState, [{ readonly proof: string }]>('check');

export type ResendOutcome =
  | { readonly outcome: 'sent'; readonly state: VerificationState }
  /** Too soon after the last send: wait `retryAfterMs`. */
  | { readonly outcome: 'cooldown'; readonly retryAfterMs: number; readonly state: VerificationState }
  | { readonly outcome: 'no_sends_left' | 'not_pending'; readonly state: VerificationState };

export const resendUpdate = defineUpdate<ResendOutcome>('resend');
export const cancelVerificationUpdate = defineUpdate<VerificationState>('cancel-verification');
export const verificationStateQuery = defineQuery<VerificationState>('verification-state');
