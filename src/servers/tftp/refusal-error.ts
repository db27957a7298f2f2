import type { Problem } from '../../provisioning/core.js';
import { ERR_ACCESS, ERR_DISK_FULL, ERR_NOT_DEFINED, ERR_NOT_FOUND } from './packet.js';

/** The TFTP ERROR a core refusal becomes: the closest RFC 1350 code, with the core's reason as text. */
export function errorForRefusal(problem: Problem, message: string): { code: number; message: string } {
  switch (problem) {
    case 'not-found':
      return { code: ERR_NOT_FOUND, message: 'File not found' };
    case 'unauthenticated':
    case 'forbidden':
      return { code: ERR_ACCESS, message: `Access violation: ${message}` };
    case 'too-large':
      return { code: ERR_DISK_FULL, message: `Disk full or allocation exceeded: ${message}` };
    default:
      // bad-path, bad-request, too-long, not-allowed, conflict, not-implemented: "see the message".
      return { code: ERR_NOT_DEFINED, message };
  }
}
