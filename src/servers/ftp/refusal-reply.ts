import type { Refusal } from '../../provisioning/core.js';
import { replyText } from './command-line.js';

/**
 * The FTP reply for a core refusal. FTP has few codes for file problems, so most become 550 with
 * the core's reason as the text (it never names another tenant: see core.ts); an authentication
 * refusal says nothing more than 530.
 */
export function refusalReply(r: Refusal): { code: number; text: string } {
  switch (r.problem) {
    case 'unauthenticated':
      return { code: 530, text: 'Not logged in' };
    case 'too-large':
      return { code: 552, text: replyText(r.message) };
    default:
      return { code: 550, text: replyText(r.message) || 'Refused' };
  }
}
