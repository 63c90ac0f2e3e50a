import pg from 'pg';

/** The parts of pg's Client this one takes over (pg 8.x; `_attachListeners` binds them when the client connects). */
interface ClientInternals {
  connection: { emit(event: 'error', err: Error): boolean; stream?: { destroy(): void } };
  saslSession: unknown;
  _connecting: boolean;
  _handleAuthSASLFinal(msg: unknown): void;
  _handleReadyForQuery(msg: unknown): void;
}

const Client = pg.Client as unknown as new (config?: string | pg.ClientConfig) => pg.Client & ClientInternals;

/**
 * A pg client for the embedded Postgres that authenticates only with a completed SCRAM-SHA-256 exchange, in
 * which the server proves it knows the password too. The embedded server listens on 127.0.0.1:EMBEDDED_PG_PORT,
 * and while it is down (stopped, restarting, crashed) any local user can listen there. pg answers whatever the
 * server asks for: a password in clear text, an MD5 hash of it, or nothing at all when told "authentication
 * ok". A program on the port could so read the service's database password, or feed the worker jobs of its own.
 * This client closes such a connection before answering (the embedded server only ever asks for SCRAM), and the
 * connection fails with an error saying why. For a DATABASE_URL of the operator's choice (which may use MD5 or
 * a password over TLS) the stock client is used.
 */
export class ScramOnlyClient extends Client {
  /** The server's SCRAM signature was verified (pg checks it in _handleAuthSASLFinal). */
  private serverProved = false;

  _handleAuthCleartextPassword(): void {
    this.refuse('the password in clear text');
  }

  _handleAuthMD5Password(): void {
    this.refuse('an MD5 hash of the password');
  }

  override _handleAuthSASLFinal(msg: unknown): void {
    super._handleAuthSASLFinal(msg);
    // pg clears the session once the server's signature checks out; a bad signature is an error it emits.
    if (this.saslSession === null) this.serverProved = true;
  }

  override _handleReadyForQuery(msg: unknown): void {
    if (this._connecting && !this.serverProved) {
      this.refuse('nothing: it let the client in without a SCRAM exchange');
      return;
    }
    super._handleReadyForQuery(msg);
  }

  private refuse(what: string): void {
    const err = new Error(
      `Refused to log in to the embedded Postgres: the server on its port asked for ${what}, and the embedded Postgres ` +
        'only ever asks for SCRAM-SHA-256. Another program may be listening on EMBEDDED_PG_PORT: check what holds that port.',
    );
    this.connection.stream?.destroy();
    this.connection.emit('error', err);
  }
}
