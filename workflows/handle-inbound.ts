/**
 * One inbound message after it was stored (DESIGN §11): answer its keyword (STOP, START, HELP)
 * with a message from the number it was sent to — charged as any message — and forward it to the
 * account's `inbound_url` with the retry schedule of status callbacks (1 s doubling, at most 1 h
 * apart, for up to 24 h), then give it up (`abandoned`; also when an operator cancels the run — a
 * terminated run leaves the forwarding pending, as it cannot run code). The opt-out change itself
 * was made when the message was stored, so a send refused at the API never waits for this run.
 */
import {
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
} from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index.ts';
import { callbackActivityOptions } from './callback-retry.ts';
import type { HandleInboundInput } from './inbound-definitions.ts';
import { startMessageRun } from './start-message-run.ts';

const local = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

export async function handleInbound(input: HandleInboundInput): Promise<void> {
  const reply = await local.prepareInboundReply({ inboundId: input.inboundId });
  if (reply.ok) await startMessageRun(reply, 'high');
  else if (reply.reason === 'no_route')
    log.warn('keyword reply not sent: no route', { inboundId: input.inboundId });

  const settings = await local.callbackSettings();
  const { forwardInbound } = proxyActivities<HeraldActivities>(callbackActivityOptions(settings));
  try {
    await forwardInbound({ inboundId: input.inboundId });
  } catch (err) {
    if (isCancellation(err)) {
      // An operator's cancel ends the forwarding: the row says so, then the run closes canceled.
      log.warn('inbound forwarding canceled by an operator', { inboundId: input.inboundId });
      await CancellationScope.nonCancellable(() =>
        local.abandonInboundForward({ inboundId: input.inboundId }),
      );
      throw err;
    }
    log.warn('inbound forwarding given up', { inboundId: input.inboundId, error: String(err) });
    await local.abandonInboundForward({ inboundId: input.inboundId });
  }
}
