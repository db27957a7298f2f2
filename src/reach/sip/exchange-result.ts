import type { SipResponse } from '../../domain/sip-message.js';

/** How one client transaction ended, whatever the transport; `sends` counts transmissions. */
export type ExchangeResult =
  | { kind: 'final'; response: SipResponse; sends: number }
  | { kind: 'timeout'; sends: number }
  | { kind: 'error'; message: string; sends: number };

/** The request text once the local address (Via, Contact) is known: for TCP/TLS only after connecting. */
export type RequestForLocal = (local: { host: string; port: number }) => string;
