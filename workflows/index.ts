// The workflow bundle's entry: every workflow type the worker registers.
export { sendMessage } from './send-message.ts';
