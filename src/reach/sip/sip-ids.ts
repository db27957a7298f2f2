import { randomBytes } from 'node:crypto';
import { BRANCH_COOKIE } from '../../domain/sip-message.js';

// Unguessable identifiers: a response is matched to its transaction by the branch alone, so an
// off-path sender must not be able to predict one.

/** A fresh RFC 3261 branch, magic cookie included. */
export function newBranch(): string {
  return `${BRANCH_COOKIE}${randomBytes(12).toString('hex')}`;
}

export function newTag(): string {
  return randomBytes(6).toString('hex');
}

export function newCallId(): string {
  return `${randomBytes(12).toString('hex')}@polyprov`;
}

export function newCnonce(): string {
  return randomBytes(8).toString('hex');
}
