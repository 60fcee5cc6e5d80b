import { z } from 'zod';
import { createMessageBody, addCreditBody, listMessagesQuery } from '../api/schemas.ts';
for (const s of [createMessageBody, addCreditBody, listMessagesQuery]) console.log(JSON.stringify(z.toJSONSchema(s, { io: 'input', target: 'draft-2020-12' })));
console.log(JSON.stringify(z.toJSONSchema(z.object({a: z.iso.datetime(), b: z.string().nullable(), c: z.unknown().optional()}), { io: 'output' })));
