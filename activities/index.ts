import { createAdmissionActivities } from './admission.ts';
import { createCallbackActivities } from './callbacks.ts';
import type { ActivityDeps } from './deps.ts';
import { createFailoverActivities } from './failover.ts';
import { createInboundActivities } from './inbound.ts';
import { createSettlementActivities } from './settlement.ts';
import { createSubmissionActivities } from './submission.ts';
import { createVerificationActivities } from './verification.ts';

export type { ActivityDeps } from './deps.ts';

/** All of Herald's activities, built from the worker's dependencies (no globals). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createAdmissionActivities(deps),
    ...createSubmissionActivities(deps),
    ...createSettlementActivities(deps),
    ...createFailoverActivities(deps),
    ...createCallbackActivities(deps),
    ...createVerificationActivities(deps),
    ...createInboundActivities(deps),
  };
}

export type HeraldActivities = ReturnType<typeof createActivities>;
