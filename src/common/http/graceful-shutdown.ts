import type { LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage } from 'node:http';

export interface ShutdownTimings {
  /** How long to keep serving after the signal, with readiness failing, so a load balancer stops routing here. */
  drainDelayMs: number;
  /** Hard bound on the whole shutdown; connections still open then are destroyed. */
  timeoutMs: number;
}

/**
 * The shutdown sequence, owned here rather than left to Nest's signal hook. Closing Fastify straight away destroys
 * keep-alive sockets whose request the server has not read yet (the client sees ECONNRESET) and leaves sockets that
 * answer after the close began open until their keep-alive timeout (72 s). So on SIGTERM or SIGINT:
 * readiness answers 503 and every response carries `Connection: close`; after `drainDelayMs` requests whose body
 * is still arriving are cut and the app closes (no new connections, in-flight requests finish, then the database
 * and other resources close); whatever is still open after `timeoutMs` is destroyed.
 */
export class GracefulShutdown {
  private draining = false;
  /** Requests the server is handling; those whose body has not fully arrived are cut after the drain. */
  private readonly inFlight = new Set<IncomingMessage>();

  get isDraining(): boolean {
    return this.draining;
  }

  /** Hooks that must exist before the server starts: call from configureApp. */
  registerHooks(app: NestFastifyApplication, readinessPaths: readonly string[]): void {
    const fastify = app.getHttpAdapter().getInstance();
    fastify.server.on('request', (request: IncomingMessage) => {
      this.inFlight.add(request);
      request.once('close', () => this.inFlight.delete(request));
    });
    fastify.addHook('onRequest', (request, reply, done) => {
      if (this.draining && readinessPaths.includes(request.routeOptions.url ?? '')) {
        void reply.code(503).send({ status: 'error', error: { shutdown: { status: 'down' } } });
        return;
      }
      done();
    });
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (this.draining) void reply.header('connection', 'close');
      done(null, payload);
    });
  }

  /** Runs the sequence on the first SIGTERM or SIGINT, then exits the process. */
  listen(app: NestFastifyApplication, timings: ShutdownTimings, logger: LoggerService): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.draining) return;
      this.draining = true;
      logger.log(`${signal}: draining for ${timings.drainDelayMs} ms, then closing`, 'Shutdown');
      const deadline = setTimeout(() => {
        logger.warn(`shutdown exceeded ${timings.timeoutMs} ms: destroying open connections`, 'Shutdown');
        app.getHttpAdapter().getInstance().server.closeAllConnections();
        process.exit(1);
      }, timings.timeoutMs);
      deadline.unref();
      void new Promise((resolve) => setTimeout(resolve, timings.drainDelayMs))
        .then(() => {
          // A request still waiting for its body would hold the close until the hard timeout (exit 1): the
          // balancer stopped routing here during the drain, so what has not arrived by now is not coming in time.
          for (const request of this.inFlight) if (!request.complete) request.socket.destroy();
          return app.close();
        })
        .then(
          () => {
            logger.log('closed', 'Shutdown');
            process.exit(0);
          },
          (error: unknown) => {
            logger.error(
              `shutdown failed: ${error instanceof Error ? error.message : String(error)}`,
              'Shutdown',
            );
            process.exit(1);
          },
        );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
}
