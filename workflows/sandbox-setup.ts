/**
 * Runs once in the workflow sandbox, before the SDK freezes its globals: workers preload it into
 * the bundle (workers/run-workers.ts `buildWorkflowBundle`).
 *
 * The SDK's promise hook captures, formats and source-maps a stack trace for every promise that
 * workflow code creates, for the `__stack_trace` query (the Temporal UI's "Stack Trace" tab); it
 * was a quarter of the worker's CPU per message (bench/results/README.md, Dec 6). Herald's runs
 * say where they stand in their current details and search attributes instead, so the capture is
 * switched off: the query names no frame, and errors raised in workflow code carry their message
 * and type but no frames. The workflow tests (test/workflow) bundle without it, with full traces.
 */
Error.stackTraceLimit = 0;

export {};
