/** What the inbound workflow shares with the code that starts it (services/inbound-intake.ts). */

/** Workflow type name of workflows/handle-inbound.ts. */
export const HANDLE_INBOUND_WORKFLOW = 'handleInbound';

/** One workflow per inbound message. */
export const inboundWorkflowId = (inboundId: string): string => `inbound-${inboundId}`;

export interface HandleInboundInput {
  readonly inboundId: string;
  readonly accountId: string;
}
