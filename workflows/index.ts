// The workflow bundle's entry: every workflow type the worker registers.
export { deliverCallbacks } from './deliver-callbacks.ts';
export { handleInbound } from './handle-inbound.ts';
export { noopWorkflow, receiptShapedWorkflow } from './noop.ts';
export { sendMessage, sendMessageV2 } from './send-message.ts';
export { verify } from './verify.ts';
