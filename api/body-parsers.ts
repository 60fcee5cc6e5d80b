/** Request body parsers, configured once for every route that reads a body. */
import express from 'express';

/** Largest request body the API reads, JSON or webhook. */
export const MAX_BODY_BYTES = '64kb';

/** JSON objects or arrays only (`strict`), for `application/json` requests. */
export const jsonBody = express.json({ limit: MAX_BODY_BYTES, strict: true });

/**
 * The raw body as a string, whatever the content type: carriers sign the exact bytes they sent,
 * so webhook bodies are parsed by the adapter, never by Express.
 */
export const rawTextBody = express.text({ type: () => true, limit: MAX_BODY_BYTES });
