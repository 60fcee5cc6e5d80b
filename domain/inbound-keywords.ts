/**
 * The standard opt-out keywords of two-way SMS (DESIGN §11; the set US carriers, Twilio and the
 * CTIA handbook use): a whole message that is one of them, ignoring case and surrounding
 * whitespace, opts the sender out of (or back into) everything the receiving number's account
 * sends, or asks for help.
 */
/** What an inbound message's body asks for, when it is a keyword. */
export type InboundKeyword = 'stop' | 'start' | 'help';

const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
const START_WORDS = new Set(['START', 'UNSTOP', 'YES']);
const HELP_WORDS = new Set(['HELP']);

/** The keyword a message body is, or null when it is ordinary text. */
export function inboundKeyword(body: string): InboundKeyword | null {
  const word = body.trim().toUpperCase();
  if (STOP_WORDS.has(word)) return 'stop';
  if (START_WORDS.has(word)) return 'start';
  if (HELP_WORDS.has(word)) return 'help';
  return null;
}

/** The confirmations sent when an account has not set its own (Twilio's wording). */
export const DEFAULT_KEYWORD_REPLIES: Readonly<Record<InboundKeyword, string>> = {
  stop: 'You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.',
  start:
    'You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.',
  help: 'Reply STOP to unsubscribe. Msg&Data Rates May Apply.',
};

/** The reply to send for `keyword`: the account's text (null = default, '' = none). */
export function keywordReply(keyword: InboundKeyword, accountText: string | null): string | null {
  if (accountText === null) return DEFAULT_KEYWORD_REPLIES[keyword];
  return accountText === '' ? null : accountText;
}
