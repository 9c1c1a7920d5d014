import pg from 'pg';

const RECONNECT_MS = 1_000;

/**
 * LISTEN on a connection of its own (a pooled one would be handed to queries), re-established a second after it
 * drops, for as long as it is not stopped. A notification lost while it is down is covered by the listener's
 * caller polling: this only makes the common case fast.
 */
export async function listenOnPostgres(
  url: string,
  channel: string,
  onNotify: () => void,
  onError: (error: Error) => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const next = new pg.Client({ connectionString: url, application_name: 'jobboard-api listener' });
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    const retry = (error?: Error) => {
      if (error) onError(error);
      if (client === next) client = undefined;
      void next.end().catch(() => undefined);
      if (!stopped && !timer) {
        timer = setTimeout(() => {
          timer = undefined;
          void connect();
        }, RECONNECT_MS);
        timer.unref();
      }
    };
    next.on('error', retry);
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      client = next;
      // Whatever was recorded while this connection was being made: look once now.
      onNotify();
    } catch (error) {
      retry(error as Error);
    }
  };

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await client?.end().catch(() => undefined);
  };
}
