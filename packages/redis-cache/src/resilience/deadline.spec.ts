import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { DeadlineExceeded, withDeadline } from './deadline.js';

/** Keeps the event loop busy, as a CPU-bound request would. */
function burn(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('withDeadline', () => {
  let echo: Worker;
  let client: Socket;

  beforeAll(async () => {
    // An echo server on a thread of its own, like a fast Redis: it answers while this thread's loop is blocked.
    echo = new Worker(
      `const { createServer } = require('node:net');
       const { parentPort } = require('node:worker_threads');
       const server = createServer((socket) => socket.on('data', (data) => socket.write(data)));
       server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
      { eval: true },
    );
    const [port] = (await once(echo, 'message')) as [number];
    client = connect(port, '127.0.0.1');
    await once(client, 'connect');
  });

  afterAll(async () => {
    client.destroy();
    await echo.terminate();
  });

  it('lets a reply that arrived while the loop was blocked win over the timer that came due meanwhile', async () => {
    for (let i = 0; i < 5; i++) {
      // The command goes out, then this callback (an I/O callback of another request in real life) burns CPU
      // while the echo arrives. The next loop turn starts with the timers, four times past the deadline, and only
      // then would the poll phase read the socket.
      const { answered } = await new Promise<{ answered: Promise<Buffer> }>((resolve) =>
        setImmediate(() => {
          const reply = new Promise<Buffer>((replied) => client.once('data', replied));
          client.write('PING');
          const bounded = withDeadline(reply, 20);
          burn(80);
          resolve({ answered: bounded }); // wrapped: resolving with a promise would adopt its outcome
        }),
      );
      await expect(answered).resolves.toEqual(Buffer.from('PING'));
    }
  });

  it('marks a miss during which the loop was busy, and not one during which it idled', async () => {
    const never = new Promise<never>(() => undefined);
    const busy = withDeadline(never, 30);
    burn(60);
    await expect(busy).rejects.toEqual(expect.objectContaining({ name: 'DeadlineExceeded', loopBusy: true }));
    const idle = withDeadline(never, 30);
    await expect(idle).rejects.toBeInstanceOf(DeadlineExceeded);
    await expect(idle).rejects.toHaveProperty('loopBusy', false);
  });

  it('settles like the operation when it is in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 50)).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('refused')), 50)).rejects.toThrow('refused');
  });
});
