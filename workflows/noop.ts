/**
 * The cheapest workflow there is: start → one workflow task → complete. `npm run bench` runs it on
 * the main task queue after the measured phase to measure the stack's floor cost per workflow
 * (bench/noop-floor.ts); nothing in production starts it.
 */
export async function noopWorkflow(): Promise<void> {}
